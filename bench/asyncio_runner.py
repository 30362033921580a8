"""The same workloads through Python asyncio: an Event per task, all tasks in one TaskGroup.

    python3 bench/asyncio_runner.py <noop|sleep|first|first-sleep> <workload.json>

The workload file is what `measure.mjs workload <shape> <n>` writes (deps[i] lists the tasks i
needs, with the sleep durations), so both languages run exactly the same graphs. Prints one JSON
line like measure.ts: noop -> usPerTask (mean of the timed runs after warm-ups); sleep -> makespanMs.
"""
import asyncio
import json
import sys
import time


async def run_graph(deps, sleep_ms, work=None):
    n = len(deps)
    done = [asyncio.Event() for _ in range(n)]
    values = [None] * n

    async def task(i):
        for d in deps[i]:
            await done[d].wait()
        if sleep_ms is not None:
            await asyncio.sleep(sleep_ms[i] / 1000)
        values[i] = i if work is None else work(i)
        done[i].set()

    async with asyncio.TaskGroup() as group:
        for i in range(n):
            group.create_task(task(i))
    return values


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        workload = json.load(f)
    deps, sleeps = workload["deps"], workload["sleeps"]
    n = len(deps)
    if kind == "noop":
        warmups, timed = (2, 3) if n >= 100_000 else (4, 10)
        for _ in range(warmups):
            asyncio.run(run_graph(deps, None))
        total = 0.0
        for _ in range(timed):
            t0 = time.perf_counter()
            asyncio.run(run_graph(deps, None))
            total += time.perf_counter() - t0
        print(json.dumps({"usPerTask": total / timed * 1e6 / n}))
    elif kind == "sleep":
        asyncio.run(run_graph(deps, [0] * n))
        t0 = time.perf_counter()
        asyncio.run(run_graph(deps, sleeps))
        print(json.dumps({"makespanMs": (time.perf_counter() - t0) * 1000}))
    elif kind in ("first", "first-sleep"):
        # first-run mode (bench/run-firstrun.ts): the first run in this process, each task calls work(i)
        sink = [0.0] * n

        def work(i):
            sink[i] = i * 0.5 + 1
            return i

        c0 = time.process_time()
        t0 = time.perf_counter()
        asyncio.run(run_graph(deps, sleeps if kind == "first-sleep" else None, work))
        ms = (time.perf_counter() - t0) * 1000
        cpu_ms = (time.process_time() - c0) * 1000
        print(json.dumps({"ms": ms, "usPerTask": ms * 1000 / n, "cpuMs": cpu_ms}))
    else:
        raise SystemExit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()
