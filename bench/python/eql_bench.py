"""Times Elastic's reference Python EQL engine (PyPI `eql`) on the events bench/engine.ts wrote.

Input: an NDJSON file of documents in @timestamp order, and a JSON list of queries
({"id", "query"}) already written in the Python package's dialect (see bench/README.md for
the adjustments bench/engine.ts makes). Output: a JSON file with, per query, the match count,
the matching documents' line numbers, and the per-iteration stream times (CPU and wall).

Only `engine.stream_events(events)` is timed: reading and decoding the NDJSON, building the
eql.Event tuples (event type from `event.category`, time = @timestamp in epoch ms) and
compiling the query happen before the clock starts, as on the TypeScript side.
"""
import argparse
import json
import resource
import sys
import time
from datetime import datetime

import eql
import eql.utils
from eql.parser import elasticsearch_syntax


def epoch_ms(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def load_events(path):
    events = []
    with open(path, "r", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            doc = json.loads(line)
            categories = (doc.get("event") or {}).get("category")
            if isinstance(categories, str):
                categories = [categories]
            # The Python engine has one event type per event; the scenario's documents carry at
            # most one category (audit documents carry none: `any where` still sees them).
            event_type = categories[0] if categories and len(categories) == 1 else "generic"
            events.append(eql.Event(event_type, epoch_ms(doc["@timestamp"]), doc))
    return events


def run_once(parsed, events):
    engine = eql.PythonEngine({"time_unit": 1000})  # timestamps are in milliseconds
    results = []
    engine.add_output_hook(results.append)
    engine.add_query(parsed)
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    engine.stream_events(events)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    return cpu, wall, results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    # Elasticsearch compares keyword values case-sensitively with == and `in`; the Python
    # package folds case by default.
    eql.utils.CASE_INSENSITIVE = False

    t0 = time.perf_counter()
    events = load_events(args.events)
    load_s = time.perf_counter() - t0
    position = {id(e.data): i for i, e in enumerate(events)}

    with open(args.queries, "r", encoding="utf-8") as fh:
        queries = json.load(fh)

    out = {
        "engine": "python-eql",
        "eqlVersion": eql.__version__,
        "python": sys.version.split()[0],
        "events": len(events),
        "loadSeconds": load_s,
        "queries": [],
    }
    for q in queries:
        with elasticsearch_syntax:
            parsed = eql.parse_query(q["query"])
        for _ in range(args.warmup):
            run_once(parsed, events)
        cpu_times = []
        wall_times = []
        results = []
        for _ in range(args.iterations):
            cpu, wall, results = run_once(parsed, events)
            cpu_times.append(cpu)
            wall_times.append(wall)
        matches = [[position[id(e.data)] for e in r.events] for r in results]
        out["queries"].append({
            "id": q["id"],
            "query": q["query"],
            "matches": len(matches),
            "matchLines": matches,
            "cpuSeconds": cpu_times,
            "wallSeconds": wall_times,
        })
    out["maxRssMB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main()
