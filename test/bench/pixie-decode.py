"""Decode benchmark consumer: Pixie's official Python client (pxapi) reading every row of every table.

pxapi has no columnar API: each row becomes a pxapi Row (every value formatted), which is what a
pxapi user gets. Prints one JSON line: {mode, rows, seconds, cpuSeconds, maxRssKiB}
(cpuSeconds: user + system time of this process, all threads, during the run).

Usage: python pixie-decode.py --addr HOST:PORT --cluster UUID --script FILE [--encrypt]
(API key from the PX_BENCH_API_KEY environment variable).
"""

import argparse
import asyncio
import json
import os
import resource
import time

import grpc
import grpc.aio
import pxapi


async def run(args, script):
    client = pxapi.Client(token=os.environ["PX_BENCH_API_KEY"], server_url=args.addr, use_encryption=args.encrypt,
                          channel_fn=lambda url: grpc.insecure_channel(url),
                          conn_channel_fn=lambda url: grpc.aio.insecure_channel(url))
    conn = client.connect_to_cluster(args.cluster)
    executor = conn.prepare_script(script)
    all_tables = executor.subscribe_all_tables()
    rows = 0

    async def consume(sub):
        nonlocal rows
        async for _row in sub:
            rows += 1

    async def consume_all():
        tasks = []
        async for sub in all_tables():
            tasks.append(asyncio.ensure_future(consume(sub)))
        await asyncio.gather(*tasks)

    await asyncio.gather(executor.run_async(), consume_all())
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--addr", required=True)
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--script", required=True)
    parser.add_argument("--encrypt", action="store_true")
    parser.add_argument("--baseline", action="store_true", help="import pxapi, make no call (idle RSS)")
    args = parser.parse_args()
    if args.baseline:
        print(json.dumps({"mode": "python-baseline", "rows": 0, "seconds": 0, "cpuSeconds": 0,
                          "maxRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
        return
    with open(args.script) as f:
        script = f.read()
    started = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rows = asyncio.run(run(args, script))
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (end.ru_utime - usage.ru_utime) + (end.ru_stime - usage.ru_stime)
    print(json.dumps({"mode": "python-pxapi" + ("-encrypted" if args.encrypt else ""), "rows": rows,
                      "seconds": time.perf_counter() - started, "cpuSeconds": cpu,
                      "maxRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
