"""Independent pandas oracle for quixlab's indicators over 1-minute candles (DESIGN.md "Features over features").

The 1-minute closes come from oracle.py's own resample (tumbling 1 min), then per product, in start order:
  ema:       close.ewm(span=n, adjust=False).mean()                       (every window)
  rsi:       d = close.diff(); gain/loss = d.clip(lower=0) / -d.clip(upper=0), each .ewm(alpha=1/n, adjust=False)
             .mean() over d[1:]; rsi = 100 - 100 / (1 + gain / loss)     (from the second window; null when 0/0)
  bollinger: m = close.rolling(n).mean(); s = close.rolling(n).std(ddof=0); m ± k s   (from the n-th window)
Prints one JSON object per line ({"key","start","end", then "ema" | "rsi" | "mid","upper","lower"}).

usage: oracle_indicators.py FILE --kind ema|rsi|bollinger --n N [--k K]
"""

import argparse
import json
import math
import os
import sys

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import read_jsonl, tumbling  # noqa: E402

M = 60_000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--kind", choices=["ema", "rsi", "bollinger"], required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--k", type=float, default=2.0)
    a = ap.parse_args()
    rows, _ = read_jsonl(a.file)
    bars = tumbling(pd.DataFrame(rows, columns=["product_id", "time", "price", "last_size"]), M, "epoch")
    w = sys.stdout.write
    for key, g in bars.sort_values(["key", "start"], kind="mergesort").groupby("key", sort=True):
        close = g["close"].reset_index(drop=True)
        starts = g["start"].to_numpy()
        if a.kind == "ema":
            out = {"ema": close.ewm(span=a.n, adjust=False).mean()}
            first = 0
        elif a.kind == "rsi":
            d = close.diff().iloc[1:]
            gain = d.clip(lower=0).ewm(alpha=1 / a.n, adjust=False).mean()
            loss = (-d.clip(upper=0)).ewm(alpha=1 / a.n, adjust=False).mean()
            out = {"rsi": (100 - 100 / (1 + gain / loss)).reindex(close.index)}
            first = 1
        else:
            m = close.rolling(a.n).mean()
            s = close.rolling(a.n).std(ddof=0)
            out = {"mid": m, "upper": m + a.k * s, "lower": m - a.k * s}
            first = a.n - 1
        for i in range(first, len(close)):
            rec = {"key": key, "start": int(starts[i]), "end": int(starts[i]) + M}
            for f, col in out.items():
                v = float(col.iloc[i])
                rec[f] = None if math.isnan(v) else v
            w(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
