"""pandas side of bench/batch.ts: times, inside Python, OHLCV by groupby(product).resample() from parsed columns,
and reading + converting + resampling the same JSON Lines file. Prints one JSON object."""

import json
import sys
import time
from pathlib import Path

import pandas as pd

# The same aggregation the parity oracle checks our windows against, so the bench times that computation.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "test" / "integration" / "pandas"))
from oracle import OHLCV  # noqa: E402


def ohlcv(df, freq):
    g = df.groupby("product_id")[["price", "last_size"]].resample(freq, closed="left", label="left", origin="epoch")
    out = g.agg(**OHLCV)
    return out[out["count"] > 0]


def parse(raw):
    df = raw[["product_id", "time", "price", "last_size"]].copy()
    df["time"] = pd.to_datetime(df["time"], format="ISO8601", utc=True).dt.floor("ms")
    df["price"] = df["price"].astype(float)
    df["last_size"] = df["last_size"].astype(float)
    return df.set_index("time")


def best(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main():
    path, repeat = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
    t0 = time.perf_counter()
    raw = pd.read_json(path, lines=True, dtype=False)
    t1 = time.perf_counter()
    df = parse(raw)
    first_1m = ohlcv(df, "1min")
    t2 = time.perf_counter()
    compute_1m, r1m = best(lambda: ohlcv(df, "1min"), repeat)
    compute_1h, r1h = best(lambda: ohlcv(df, "1h"), repeat)
    print(json.dumps({
        "pandas": pd.__version__,
        "ticks": len(df),
        "read_s": t1 - t0,
        "file_total_s": t2 - t0,
        "compute_1m_s": compute_1m,
        "compute_1h_s": compute_1h,
        "windows_1m": len(r1m),
        "windows_1h": len(r1h),
        "windows_first_1m": len(first_1m),
    }))


if __name__ == "__main__":
    main()
