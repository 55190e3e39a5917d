"""Quix Streams side of the stream bench (bench/quixstreams.ts): ohlc1m as a Quix Streams app on the same broker and
input topic as the step. Tumbling 1-minute windows with the step's grace, event time parsed from each tick's `time`,
open/high/low/close/volume/count by a reducer, `.final()` to an output topic. Stops once it has taken `ticks` ticks
and prints one JSON object: the rate from its first message to its last tick, and the windows it emitted.

usage: quixstreams_ohlcv.py BROKERS INPUT OUTPUT GROUP STATE_DIR TICKS GRACE_MS
"""

import json
import sys
import time
from datetime import datetime, timedelta, timezone

import quixstreams
from quixstreams import Application

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MS = timedelta(milliseconds=1)


def main():
    brokers, input_name, output_name, group, state_dir = sys.argv[1:6]
    ticks, grace_ms = int(sys.argv[6]), int(sys.argv[7])
    t_start = time.perf_counter()
    app = Application(
        broker_address=brokers,
        consumer_group=group,
        auto_offset_reset="earliest",
        state_dir=state_dir,
        loglevel="WARNING",
    )
    seen = {"ticks": 0, "reduced": 0, "windows": 0, "first": 0.0, "last": 0.0}

    def event_time(value, headers, timestamp, timestamp_type):
        # The input's end-of-input markers (null values) keep their Kafka timestamp and are filtered out below.
        if value is None:
            return timestamp
        # Exact integer milliseconds (a float timestamp() could round across a boundary); kept on the value so the
        # reducer orders open and close by event time as the step does, not by arrival.
        ms = (datetime.fromisoformat(value["time"]) - EPOCH) // MS
        value["_ms"] = ms
        return ms

    def take(value):
        if value is None:
            return False
        n = seen["ticks"] = seen["ticks"] + 1
        if n == 1:
            seen["first"] = time.perf_counter()
        if n == ticks:
            seen["last"] = time.perf_counter()
            app.stop()
        return True

    def initializer(v):
        seen["reduced"] += 1
        p, t = float(v["price"]), v["_ms"]
        return {"open": p, "ot": t, "high": p, "low": p, "close": p, "ct": t, "volume": float(v["last_size"]), "count": 1}

    def reducer(a, v):
        seen["reduced"] += 1
        p, t = float(v["price"]), v["_ms"]
        if t < a["ot"]:
            a["open"], a["ot"] = p, t
        if t >= a["ct"]:
            a["close"], a["ct"] = p, t
        if p > a["high"]:
            a["high"] = p
        if p < a["low"]:
            a["low"] = p
        a["volume"] += float(v["last_size"])
        a["count"] += 1
        return a

    def emitted(w):
        seen["windows"] += 1
        bar = w["value"]
        return {"start": w["start"], "end": w["end"], "open": bar["open"], "high": bar["high"], "low": bar["low"],
                "close": bar["close"], "volume": bar["volume"], "count": bar["count"]}

    source = app.topic(input_name, value_deserializer="json", timestamp_extractor=event_time)
    sink = app.topic(output_name, value_serializer="json")
    sdf = app.dataframe(source).filter(take)
    sdf = sdf.tumbling_window(timedelta(minutes=1), grace_ms=grace_ms).reduce(reducer, initializer).final()
    sdf = sdf.apply(emitted).to_topic(sink)
    app.run(sdf)
    t_stopped = time.perf_counter()
    if seen["ticks"] < ticks:
        raise SystemExit(f"quixstreams_ohlcv.py: stopped after {seen['ticks']} of {ticks} ticks")
    print(json.dumps({
        "quixstreams": quixstreams.__version__,
        "ticks": seen["ticks"],
        "reduced": seen["reduced"],
        "windows": seen["windows"],
        "processing_s": seen["last"] - seen["first"],
        "inclusive_s": seen["last"] - t_start,
        "stopped_s": t_stopped - t_start,
    }))


if __name__ == "__main__":
    main()
