"""pandas side of bench/window-kinds.ts: reads and converts the ticks file once (read_json + convert, as
pandas_batch.py does), then times, inside Python, OHLCV over
  sliding windows: groupby(product).rolling(size, on=time, closed="right") for high, low, volume and count, open
                   by searchsorted to the first row after t - size, close = the row itself, the last row of each
                   (product, timestamp) kept — what test/integration/pandas/oracle_kinds.py checks sliding() against;
  session windows: a stable sort by (product, time), a new session wherever the gap to the product's previous tick
                   is >= gap (diff, cumsum), groupby(session id).agg(OHLCV).
Each compute includes its sort (the ticks carry disorder). Prints one JSON object with the times and, per kind, the
number of windows with the sum and the sum of squares of their tick counts, which the bench compares with quixlab's.

usage: pandas_kinds.py FILE SLIDING_MS SESSION_GAP_MS [REPEAT]
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pandas_batch import best, parse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "test" / "integration" / "pandas"))
from oracle import OHLCV  # noqa: E402


def by_product_time(df):
    return df.reset_index().sort_values(["product_id", "time"], kind="stable", ignore_index=True)


def millis(col):
    # Not col.to_numpy(): on a tz-aware column that is an object array of Timestamps (seconds for 1M rows).
    return pd.DatetimeIndex(col).as_unit("ms").asi8


def sliding(df, size_ms):
    d = by_product_time(df)
    r = d.groupby("product_id", sort=True).rolling(pd.Timedelta(milliseconds=size_ms), on="time", closed="right")
    high, low = r["price"].max().to_numpy(), r["price"].min().to_numpy()
    volume, count = r["last_size"].sum().to_numpy(), r["price"].count().to_numpy()
    # One sorted int64 key over (product, time) finds each row's first tick after t - size within its product.
    t = millis(d["time"])
    code = d.groupby("product_id", sort=True).ngroup().to_numpy(dtype=np.int64)
    span = int(t.max() - t.min()) + size_ms + 1
    key = code * span + (t - t.min())
    price = d["price"].to_numpy()
    first = np.searchsorted(key, key - size_ms, side="right")
    keep = np.append(key[1:] != key[:-1], True)  # the last row of each (product, timestamp)
    return pd.DataFrame({"product_id": d["product_id"].to_numpy()[keep], "end": t[keep], "open": price[first][keep], "high": high[keep],
                         "low": low[keep], "close": price[keep], "volume": volume[keep], "count": count[keep]})


def session(df, gap_ms):
    d = by_product_time(df)
    dt = d.groupby("product_id", sort=False)["time"].diff()
    sid = (dt.isna() | (dt >= pd.Timedelta(milliseconds=gap_ms))).cumsum()
    return d.groupby(sid.to_numpy(), sort=True).agg(product_id=("product_id", "first"), **OHLCV, first=("time", "min"), last=("time", "max"))


def shape(out):
    """How many windows and how their ticks spread over them: equal shapes mean the same windows, almost surely."""
    c = out["count"].to_numpy(dtype=np.int64)
    return {"windows": len(c), "ticks": int(c.sum()), "ticks_sq": int((c * c).sum())}


def main():
    path, size_ms, gap_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    t0 = time.perf_counter()
    df = parse(pd.read_json(path, lines=True, dtype=False))
    read_s = time.perf_counter() - t0
    sliding_s, sl = best(lambda: sliding(df, size_ms), repeat)
    session_s, se = best(lambda: session(df, gap_ms), repeat)
    print(json.dumps({
        "pandas": pd.__version__,
        "ticks": len(df),
        "read_s": read_s,
        "sliding_s": sliding_s,
        "session_s": session_s,
        "sliding": shape(sl),
        "session": shape(se),
    }))


if __name__ == "__main__":
    main()
