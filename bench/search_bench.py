#!/usr/bin/env python3
"""Times GET /feedback?q= at the store, before and after the full-text index (issue #21 item 4, #23 point 2).

Usage: bench/search_bench.py SCHEMA_BEFORE.sql SCHEMA_AFTER.sql IMPORT.csv [ROWS]
Builds two SQLite files from the two schema scripts (git show main:src/Feedback.Storage/schema.sql for the
first), fills each with the same ROWS messages (default 100,000) from a file of bench/make_import_data.py,
and runs the statement the list endpoint sends for ?q=WORD&limit=50 on each: LIKE '%word%' before, the FTS5
subquery after. Prints the median of 5 runs per word. The server adds its own fixed cost (about 2 ms) on top.
"""
import csv
import pathlib
import sqlite3
import statistics
import sys
import tempfile
import time

WORDS = ["zzqxv", "refund", "app"]
COLUMNS = ("text, source, customer_id, sentiment, topic, confidence, confidence_score, score_positive, score_negative, "
           "score_neutral, score_mixed, alert_triggered, processing_method, language, model, status, warnings, created_at")


def build(schema: pathlib.Path, path: pathlib.Path, rows: list[tuple[str, str, str]]) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.executescript(schema.read_text(encoding="utf-8"))
    connection.executemany(
        f"INSERT INTO feedback ({COLUMNS}) VALUES (?, ?, ?, 'negative', 'bug', 0.9, 'high', 0.1, 0.7, 0.1, 0.1, 0, "
        "'ml_fallback', 'en', 'local', 'final', '[]', '2026-12-01 10:00:00')", rows)
    connection.commit()
    return connection


def median_ms(connection: sqlite3.Connection, sql: str, parameter: str) -> float:
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        connection.execute(sql, (parameter,)).fetchall()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    before, after, source = (pathlib.Path(a) for a in sys.argv[1:4])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 100_000
    with source.open(newline="", encoding="utf-8") as handle:
        rows = [(r["text"], r["source"], r["customer_id"]) for _, r in zip(range(count), csv.DictReader(handle))]
    with tempfile.TemporaryDirectory() as directory:
        like = build(before, pathlib.Path(directory, "before.db"), rows)
        fts = build(after, pathlib.Path(directory, "after.db"), rows)
        print(f"{len(rows)} rows, SQLite {sqlite3.sqlite_version}")
        print("| q | LIKE scan (before) ms | FTS5 index (after) ms |")
        print("|---|---:|---:|")
        for word in WORDS:
            scan = median_ms(like, "SELECT * FROM feedback WHERE text LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT 51", f"%{word}%")
            index = median_ms(fts, "SELECT * FROM feedback WHERE id IN (SELECT rowid FROM feedback_search WHERE feedback_search MATCH ?) "
                                   "ORDER BY id DESC LIMIT 51", f'"{word}"')
            print(f"| {word} | {scan:.1f} | {index:.1f} |")


if __name__ == "__main__":
    main()
