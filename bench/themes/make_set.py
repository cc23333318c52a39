#!/usr/bin/env python3
"""Writes bench/themes/set.csv, issue #19's theme bench set: the 90 hand-written paraphrases of bench/themes/planted.txt
(6 planted themes x 15, written to share few words) and 300 unrelated messages from training/data/product_feedback_v2.csv
(the project's own hand-written set, CC0): English rows of 6 to 60 words, none mentioning a planted theme's subject
(the keyword list below), spread over the file by taking every n-th. Run from the repository root:
    python3 bench/themes/make_set.py
"""
import csv
import io
import re

UNRELATED = 300
# A row that names a planted subject is not unrelated: it is left out.
SUBJECTS = re.compile(
    r"export|csv|spreadsheet|excel|download|charg|twice|double|duplicate|refund|debit|password|reset|log ?in|"
    r"recover|dark|night|theme|bright|battery|drain|power|notif|push|alert|remind|delay|late\b",
    re.IGNORECASE)

planted = []
theme = None
for line in open("bench/themes/planted.txt", encoding="utf-8"):
    line = line.strip()
    if line.startswith("# "):
        theme = line[2:]
    elif line:
        planted.append((theme, line))

with open("training/data/product_feedback_v2.csv", encoding="utf-8") as f:
    body = "".join(l for l in f if not l.startswith("#"))
rows = list(csv.DictReader(io.StringIO(body)))
candidates = [r["text"] for r in rows
              if r.get("language", "en") == "en" and 6 <= len(r["text"].split()) <= 60 and not SUBJECTS.search(r["text"])]
candidates = list(dict.fromkeys(candidates))
step = len(candidates) / UNRELATED
unrelated = [candidates[int(i * step)] for i in range(UNRELATED)]

with open("bench/themes/set.csv", "w", encoding="utf-8", newline="") as out:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["theme", "text"])
    for theme, text in planted:
        writer.writerow([theme, text])
    for text in unrelated:
        writer.writerow(["", text])
print(f"{len(planted)} planted, {len(unrelated)} unrelated (of {len(candidates)} candidates)")
