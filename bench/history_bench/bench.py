#!/usr/bin/env python3
"""set-labels latency on a short stream vs a long one (bench/history). Stdlib only."""
import http.client
import json
import os
import statistics
import time
import urllib.parse

API = urllib.parse.urlparse(os.environ["API_URL"])
KEY = os.environ["API_KEY"]
HISTORY = int(os.environ.get("BENCH_HISTORY", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
conn = http.client.HTTPConnection(API.hostname, API.port)


def call(method, path, body=None):
    conn.request(method, API.path + path, body=json.dumps(body) if body is not None else None,
                 headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise RuntimeError("%s %s: %d %s" % (method, path, r.status, data[:200]))
    return json.loads(data or b"null")


def labels_latency(box):
    times = []
    for i in range(ROUNDS):
        t0 = time.perf_counter()
        call("PUT", "/sandbox/%s/labels" % box, {"labels": {"round": str(i)}})
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


short = call("POST", "/sandbox", {"name": "short-history", "autoStopInterval": 0})["id"]
long = call("POST", "/sandbox", {"name": "long-history", "autoStopInterval": 0})["id"]
for _ in range(HISTORY):
    call("POST", "/sandbox/%s/last-activity" % long)
ref = labels_latency(short)
ours = labels_latency(long)
print("| figure | ours (p50 / p99) | reference (same run) | ratio (p50) |")
print("|---|---|---|---|")
print("| set-labels with %d events behind it (ref: a fresh stream, %d rounds each) | %.2f / %.2f ms | %.2f / %.2f ms | %.2fx |"
      % (HISTORY, ROUNDS, ours[0], ours[1], ref[0], ref[1], ours[0] / ref[0]))
