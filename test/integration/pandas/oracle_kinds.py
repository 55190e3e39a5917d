"""Independent pandas oracle for quixlab's sliding, session and count windows (DESIGN.md "More window kinds").

Reads a ticks file with oracle.py's own validation, then per product:
  sliding: rows sorted stably by time; df.rolling(f"{size}ms", closed="right") for high, low, volume and count, the
           last row of each timestamp kept (it sees every tick at that time); open = the first row after τ − size
           (np.searchsorted), close = the row itself.
  session: rows sorted stably by time, a new session wherever the time gap to the previous row is >= gap;
           start = first time, end = last time + gap.
  count:   rows in arrival order, n at a time (index = position // n); open/close by (time, arrival) in each;
           start = min time, end = max time + 1.
Prints one JSON object per line (count windows carry "index"), then {"summary": {...}}.

usage: oracle_kinds.py FILE --kind sliding|session|count --size N   (ms for sliding and session, ticks for count)
"""

import argparse
import json
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import OHLCV, read_jsonl  # noqa: E402


def sliding(g, size):
    g = g.sort_values("time", kind="mergesort").reset_index(drop=True)
    ts = pd.to_datetime(g["time"], unit="ms", utc=True)
    r = g.set_index(ts)[["price", "last_size"]].rolling(pd.Timedelta(milliseconds=size), closed="right")
    out = pd.DataFrame({"high": r["price"].max().to_numpy(), "low": r["price"].min().to_numpy(),
                        "volume": r["last_size"].sum().to_numpy(), "count": r["price"].count().to_numpy()})
    t = g["time"].to_numpy(dtype=np.int64)
    first = np.searchsorted(t, t - size, side="right")
    out["open"] = g["price"].to_numpy()[first]
    out["close"] = g["price"].to_numpy()
    out["end"] = t
    out["start"] = t - size
    keep = np.append(t[1:] != t[:-1], True)  # the last row of each timestamp
    return out[keep]


def session(g, gap):
    g = g.sort_values("time", kind="mergesort")
    sid = (g["time"].diff().fillna(0) >= gap).cumsum()
    out = g.groupby(sid.to_numpy(), sort=True).agg(**OHLCV, first=("time", "min"), last=("time", "max"))
    out["start"] = out["first"]
    out["end"] = out["last"] + gap
    return out


def count(g, n):
    g = g.assign(index=np.arange(len(g)) // n, arrival=np.arange(len(g)))
    g = g.sort_values(["index", "time", "arrival"], kind="mergesort")
    out = g.groupby("index", sort=True).agg(**OHLCV, first=("time", "min"), last=("time", "max")).reset_index()
    out["start"] = out["first"]
    out["end"] = out["last"] + 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--kind", choices=["sliding", "session", "count"], required=True)
    ap.add_argument("--size", type=int, required=True)
    a = ap.parse_args()
    rows, rejected = read_jsonl(a.file)
    df = pd.DataFrame(rows, columns=["product_id", "time", "price", "last_size"])
    fn = {"sliding": sliding, "session": session, "count": count}[a.kind]
    w = sys.stdout.write
    windows = 0
    for key in sorted(df["product_id"].unique()):
        out = fn(df[df["product_id"] == key], a.size)
        for r in out.itertuples(index=False):
            rec = {"key": key, "start": int(r.start), "end": int(r.end)}
            if a.kind == "count":
                rec["index"] = int(r.index)
            rec.update({"open": float(r.open), "high": float(r.high), "low": float(r.low), "close": float(r.close),
                        "volume": float(r.volume), "count": int(r.count)})
            w(json.dumps(rec) + "\n")
            windows += 1
    w(json.dumps({"summary": {"ticks": len(rows), "rejected": rejected, "windows": windows, "pandas": pd.__version__}}) + "\n")


if __name__ == "__main__":
    main()
