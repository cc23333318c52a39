#!/usr/bin/env python3
"""Writes N feedback rows (default 100,000) for the import benchmark, cycling the texts of ../shared/data.

Usage: bench/make_import_data.py DATA_DIR OUT.csv [N]
Columns: id,text,source,customer_id. Ids are unique, so every row is a new message; texts repeat after
about 50,000 rows (the public data sets hold that many distinct texts).
"""
import csv
import pathlib
import sys


def main() -> None:
    data_dir, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    texts = []
    for path in sorted(data_dir.glob("*/data.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            texts.extend((row["text"], path.parent.name) for row in csv.DictReader(handle) if row.get("text"))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "source", "customer_id"])
        for i in range(count):
            text, source = texts[i % len(texts)]
            writer.writerow([f"ticket-{i + 1}", text, source, f"c-{(i * 7919) % 5000}"])


if __name__ == "__main__":
    main()
