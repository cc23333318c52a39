#!/usr/bin/env python3
"""POSTs feedback at a steady rate (bench/scale.sh's "messages arriving" while the dashboard tab is measured).

Usage: bench/paced_post.py BASE_URL RATE TEXTS.csv   (the API key in API_KEY)
One keep-alive connection; request k is sent at start + k / RATE (a late one goes at once, none are skipped), texts
taken in turn from the text column of a bench/make_import_data.py file. Runs until SIGTERM or SIGINT, then prints
"POSTED sent=N created=N failed=N late=N seconds=S" (late: sent more than a second behind its time).
"""
import csv
import http.client
import json
import os
import signal
import sys
import time
import urllib.parse


def main() -> None:
    base, rate, texts_path = urllib.parse.urlsplit(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    key = os.environ["API_KEY"]
    with open(texts_path, newline="", encoding="utf-8") as handle:
        texts = [row["text"] for _, row in zip(range(5000), csv.DictReader(handle))]
    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    sent = created = failed = late = 0
    started = time.monotonic()
    while not stop:
        due = started + sent / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
            if stop:
                break
        elif wait < -1:
            late += 1
        body = json.dumps({"text": texts[sent % len(texts)], "source": "scale-bench"})
        try:
            connection.request("POST", "/feedback", body, headers)
            response = connection.getresponse()
            response.read()
            if response.status == 201:
                created += 1
            else:
                failed += 1
        except (OSError, http.client.HTTPException):
            failed += 1
            connection.close()
            connection = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
        sent += 1
    print(f"POSTED sent={sent} created={created} failed={failed} late={late} seconds={time.monotonic() - started:.1f}", flush=True)


if __name__ == "__main__":
    main()
