"""Independent pandas oracle for quixlab's point-in-time feature vectors (test/integration/training-set.test.ts).

Reads the ticks with oracle.py's own validation, computes the seed's features with pandas (ohlc1h / ohlc1m:
resample into 1 h / 1 min candles; ohlc60s: oracle.py's direct hopping computation, 60 s every 1 s), then for
every (key, time) applies the rule of DESIGN.md "Sources, serving" with boolean masks:
  a window counts at T when T >= end + grace (at "eof" every window counts);
  <duration>: start >= ref - duration; today: start >= UTC midnight of ref; latest: the counted window with the
  greatest start (None when there is none); lists oldest first. ref = T, or at eof the key's latest tick time.
Prints one JSON object per line: {"key","asOf","features":{name: [records] | record | null}}, keys in string
order, times in the order given.

usage: vector_oracle.py FILE --spec ohlc1h:30d,ohlc1m:today,ohlc60s:latest --times MS,MS,eof [--keys A,B]
                        [--grace-ms 2000]
"""

import argparse
import json
import os
import re
import sys

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import hopping, read_jsonl, tumbling  # noqa: E402

UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
FEATURES = {
    "ohlc1h": lambda df: tumbling(df, 3_600_000, "epoch"),
    "ohlc1m": lambda df: tumbling(df, 60_000, "epoch"),
    "ohlc60s": lambda df: hopping(df, 60_000, 1000),
}
COLUMNS = ["key", "start", "end", "open", "high", "low", "close", "volume", "count"]


def parse_range(text):
    if text in ("today", "latest"):
        return text
    m = re.fullmatch(r"(\d+)(ms|s|min|m|h|d)", text)
    if not m:
        raise SystemExit(f"bad range {text!r}")
    return int(m.group(1)) * UNIT_MS[m.group(2)]


def record(r):
    return {"key": r.key, "start": int(r.start), "end": int(r.end), "open": float(r.open), "high": float(r.high),
            "low": float(r.low), "close": float(r.close), "volume": float(r.volume), "count": int(r.count)}


def value(windows, as_of, latest_time, rng, grace_ms):
    eof = as_of == "eof"
    ref = latest_time if eof else as_of
    counted = windows if eof else windows[windows["end"] + grace_ms <= as_of]
    counted = counted.sort_values(["start", "end"], kind="mergesort")
    if rng == "latest":
        return record(next(counted.iloc[[-1]].itertuples(index=False))) if len(counted) else None
    if rng == "today":
        since = pd.Timestamp(ref, unit="ms", tz="UTC").normalize().value // 10**6
    else:
        since = ref - rng
    return [record(r) for r in counted[counted["start"] >= since].itertuples(index=False)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--times", required=True)
    ap.add_argument("--keys")
    ap.add_argument("--grace-ms", type=int, default=2000)
    a = ap.parse_args()
    rows, _ = read_jsonl(a.file)
    ticks = pd.DataFrame(rows, columns=["product_id", "time", "price", "last_size"])
    spec = [(name, parse_range(rng)) for name, rng in (p.split(":") for p in a.spec.split(","))]
    windows = {name: FEATURES[name](ticks)[COLUMNS] for name, _ in spec}
    latest = ticks.groupby("product_id")["time"].max()
    keys = a.keys.split(",") if a.keys else sorted(latest.index)
    times = [t if t == "eof" else int(t) for t in a.times.split(",")]
    out = sys.stdout
    for key in keys:
        mine = {name: w[w["key"] == key] for name, w in windows.items()}
        for t in times:
            features = {name: value(mine[name], t, int(latest[key]), rng, a.grace_ms) for name, rng in spec}
            out.write(json.dumps({"key": key, "asOf": t, "features": features}) + "\n")


if __name__ == "__main__":
    main()
