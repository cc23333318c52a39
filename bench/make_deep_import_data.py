#!/usr/bin/env python3
"""Writes N feedback rows (default 100,000) of about 100 characters for the deep import benchmark (bench/deep.sh).

Usage: bench/make_deep_import_data.py DATA_DIR OUT.csv [N]
Each text joins random sentences of the product, app and customer-service sets in DATA_DIR (../shared/data) and is
cut at a word near 100 characters, as bench-encoder cuts its messages, so the import and the bare encoder read texts
of the same length. Pairs of sentences from tens of thousands make nearly every text distinct: the import's
classification cache cannot answer for the encoder. Columns: id,text; prints the row count, the distinct texts
and the mean length.
"""
import csv
import pathlib
import random
import re
import sys

# Product feedback, app reviews and customer-service complaints; not films, restaurants, tweets about anything or
# developers' comments.
SETS = [
    "amazon_alexa_reviews", "clap_app_reviews", "guzman_shah_app_reviews", "se_app_reviews_sentiment",
    "semeval14_laptops_sentence", "twitter_us_airline", "uci_sentiment_sentences", "vader_amazon_snippets",
    "vanvliet_p3_requirements", "vu_appstore_reviews",
]
NEAR, SHORTEST = 100, 60


def cut(text: str) -> str:
    """The text cut at the last space before NEAR characters, as EncoderBench.Cut does."""
    if len(text) <= NEAR:
        return text
    space = text.rfind(" ", 0, NEAR + 1)
    return text[: space if space > 0 else NEAR]


def main() -> None:
    data_dir, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    sentences = []
    for name in SETS:
        with (data_dir / name / "data.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text = " ".join((row.get("text") or "").split())
                sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) >= 15)
    # A text opens with a sentence short enough for a second one to follow: a long sentence cut alone would come
    # back whole every time it is drawn.
    openers = [s for s in sentences if len(s) < NEAR - 20]
    random.seed(18)
    texts = []
    while len(texts) < count:
        text = random.choice(openers)
        while len(text) < NEAR:
            text += " " + random.choice(sentences)
        text = cut(text)
        if len(text) >= SHORTEST:
            texts.append(text)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i, text in enumerate(texts):
            writer.writerow([f"bench-{i + 1}", text])
    print(f"rows={count} distinct={len(set(texts))} mean_chars={sum(map(len, texts)) / count:.0f}")


if __name__ == "__main__":
    main()
