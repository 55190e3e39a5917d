"""Independent pandas oracle for quixlab's OHLCV windows (used by test/integration/pandas-parity.test.ts).

Reads a ticks file with its own validation (DESIGN.md "Ticks"), then computes OHLCV per (product, window):
  tumbling: df.sort_values(time, kind="mergesort").groupby(product).resample(size, closed="left", label="left",
            origin=epoch|start).agg(first/max/min/last, sum, count), empty bins dropped;
  hopping:  a direct computation: every tick is copied into each window start <= t < start + size on the step grid,
            then grouped by (product, start) in (time, arrival) order.
Prints one JSON object per line: {"key","start","end","open","high","low","close","volume","count"}, plus a
final {"summary": {...}} line with the tick and rejection counts.

usage: oracle.py FILE --kind tumbling|hopping --size-ms N [--step-ms N] [--origin epoch|start]
                 [--csv-map product_id=symbol,price=price,last_size=amount,time=timestamp:us]
"""

import argparse
import json
import math
import re
import sys

import numpy as np
import pandas as pd

DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})")
UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
# Named aggregations over rows already in (time, arrival) order, so first/last are open/close.
OHLCV = {
    "open": ("price", "first"),
    "high": ("price", "max"),
    "low": ("price", "min"),
    "close": ("price", "last"),
    "volume": ("last_size", "sum"),
    "count": ("price", "count"),
}


def number(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        f = float(v)
    elif isinstance(v, str) and DECIMAL.fullmatch(v):
        f = float(v)
    else:
        return None
    return f if math.isfinite(f) else None


def iso_ms(v):
    if not isinstance(v, str) or not ISO.fullmatch(v):
        return None
    try:
        ts = pd.Timestamp(v.replace(",", "."))
    except ValueError:
        return None
    if ts.tzinfo is None:
        return None
    # Integer nanoseconds // 10**6 floors to the millisecond (never rounds up).
    return ts.value // 10**6


def valid(pid, price, size, t):
    if not isinstance(pid, str) or pid == "":
        return None
    p = number(price)
    q = number(size)
    if p is None or not p > 0 or q is None or q < 0 or t is None:
        return None
    return (pid, t, p, q)


def read_jsonl(path):
    rows, rejected = [], 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                m = json.loads(line)
            except ValueError:
                rejected += 1
                continue
            r = None
            if isinstance(m, dict) and m.get("type") == "ticker":
                r = valid(m.get("product_id"), m.get("price"), m.get("last_size"), iso_ms(m.get("time")))
            if r is None:
                rejected += 1
            else:
                rows.append(r)
    return rows, rejected


def read_csv(path, mapping):
    cols, unit = {}, None
    for part in mapping.split(","):
        field, col = part.split("=", 1)
        if field == "time" and ":" in col:
            col, unit = col.rsplit(":", 1)
        cols[field] = col
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows, rejected = [], 0
    for pid, price, size, t in zip(df[cols["product_id"]], df[cols["price"]], df[cols["last_size"]], df[cols["time"]]):
        ms = (int(t) * UNIT_NS[unit]) // 10**6 if unit and t.isdigit() else (iso_ms(t) if not unit else None)
        r = valid(pid, price, size, ms)
        if r is None:
            rejected += 1
        else:
            rows.append(r)
    return rows, rejected


def tumbling(df, size_ms, origin):
    d = df.sort_values("time", kind="mergesort")
    d = d.assign(ts=pd.to_datetime(d["time"], unit="ms", utc=True)).set_index("ts")
    g = d.groupby("product_id")[["price", "last_size"]].resample(
        pd.Timedelta(milliseconds=size_ms), closed="left", label="left", origin=origin
    )
    out = g.agg(**OHLCV)
    out = out[out["count"] > 0].reset_index()
    # Timestamp.value is integer ns whatever the column's resolution.
    out["start"] = out["ts"].map(lambda x: x.value // 10**6)
    out["end"] = out["start"] + size_ms
    return out.rename(columns={"product_id": "key"})


def hopping(df, size_ms, step_ms):
    t = df["time"].to_numpy(dtype=np.int64)
    first = ((t - size_ms) // step_ms + 1) * step_ms
    last = (t // step_ms) * step_ms
    n = ((last - first) // step_ms + 1).astype(np.int64)
    idx = np.repeat(np.arange(len(df)), n)
    offsets = np.arange(idx.size) - np.repeat(np.cumsum(n) - n, n)
    starts = first[idx] + offsets * step_ms
    x = pd.DataFrame(
        {
            "key": df["product_id"].to_numpy()[idx],
            "start": starts,
            "time": t[idx],
            "arrival": idx,
            "price": df["price"].to_numpy()[idx],
            "last_size": df["last_size"].to_numpy()[idx],
        }
    )
    x = x.sort_values(["key", "start", "time", "arrival"], kind="mergesort")
    out = x.groupby(["key", "start"], sort=True).agg(**OHLCV)
    out = out.reset_index()
    out["end"] = out["start"] + size_ms
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--kind", choices=["tumbling", "hopping"], required=True)
    ap.add_argument("--size-ms", type=int, required=True)
    ap.add_argument("--step-ms", type=int)
    ap.add_argument("--origin", choices=["epoch", "start"], default="epoch")
    ap.add_argument("--csv-map")
    a = ap.parse_args()
    rows, rejected = read_csv(a.file, a.csv_map) if a.csv_map else read_jsonl(a.file)
    df = pd.DataFrame(rows, columns=["product_id", "time", "price", "last_size"])
    if a.kind == "tumbling":
        out = tumbling(df, a.size_ms, a.origin)
    else:
        out = hopping(df, a.size_ms, a.step_ms)
    out = out.sort_values(["key", "start"], kind="mergesort")
    w = sys.stdout.write
    for r in out[["key", "start", "end", "open", "high", "low", "close", "volume", "count"]].itertuples(index=False):
        w(json.dumps({"key": r.key, "start": int(r.start), "end": int(r.end), "open": float(r.open), "high": float(r.high),
                      "low": float(r.low), "close": float(r.close), "volume": float(r.volume), "count": int(r.count)}) + "\n")
    w(json.dumps({"summary": {"ticks": len(rows), "rejected": rejected, "windows": len(out), "pandas": pd.__version__}}) + "\n")


if __name__ == "__main__":
    main()
