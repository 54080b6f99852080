"""Runs one PxL script through Pixie's official Python client (pxapi) and prints what it received.

Usage: python pxapi_run.py --addr 127.0.0.1:PORT --cluster UUID --api-key-env VAR --script FILE
                           [--tls-ca ca.pem] [--encrypt] [--mode rows|count]

Output, one JSON object per line (canonical, so tests can compare clients):
  {"table": name, "columns": [[name, type], ...], "semantics": [ST_..., ...]}  when a table's rows start
  {"table": name, "row": [v, ...]}                           per row (mode rows)
  {"table": name, "count": n}                                 at a table's end
  {"error": {"type": cls, "message": text, "compiler_errors": [[line, col, msg], ...]}}
  {"done": true, "rows": total, "seconds": s, "max_rss_kib": k}
Values: INT64/TIME64NS as decimal strings, UINT128 as the UUID string pxapi renders, FLOAT64 as the
16 hex digits of its IEEE-754 bits (exact), STRING as text if UTF-8 else {"base64": ...}, BOOLEAN as JSON.
The API key is read from an environment variable so it never appears on a command line.
"""

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import struct
import sys
import time

import grpc
import grpc.aio
import pxapi
from pxapi.proto import vizierapi_pb2 as vpb

TYPE_NAMES = {vpb.BOOLEAN: "BOOLEAN", vpb.INT64: "INT64", vpb.UINT128: "UINT128", vpb.FLOAT64: "FLOAT64",
              vpb.STRING: "STRING", vpb.TIME64NS: "TIME64NS"}


def canonical(value, column_type):
    if column_type in (vpb.INT64, vpb.TIME64NS):
        return str(value)
    if column_type == vpb.FLOAT64:
        return struct.pack(">d", value).hex()
    if column_type == vpb.UINT128:
        return str(value)
    if column_type == vpb.STRING:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode("ascii")}
    return value


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")


def channel_fns(ca_path):
    if ca_path is None:
        return (lambda url: grpc.insecure_channel(url), lambda url: grpc.aio.insecure_channel(url))
    with open(ca_path, "rb") as f:
        ca = f.read()
    return (lambda url: grpc.secure_channel(url, grpc.ssl_channel_credentials(root_certificates=ca)),
            lambda url: grpc.aio.secure_channel(url, grpc.ssl_channel_credentials(root_certificates=ca)))


def compiler_errors(message):
    # pxapi formats each compiler error as "PxL, line N, <message>" with the source line and a caret
    # under the column; recover (line, column, message) from that text.
    out = []
    lines = message.split("\n")
    for i, text in enumerate(lines):
        m = re.search(r"PxL, line (\d+), (.*)$", text)
        if m and i + 2 < len(lines):
            # pxapi indents the source line and the caret line by two two-space TABs.
            caret = lines[i + 2]
            out.append([int(m.group(1)), caret.index("^") - 4 + 1 if "^" in caret else 0, m.group(2)])
    return out


async def run(args, script):
    channel_fn, conn_channel_fn = channel_fns(args.tls_ca)
    client = pxapi.Client(token=os.environ[args.api_key_env], server_url=args.addr,
                          use_encryption=args.encrypt, channel_fn=channel_fn, conn_channel_fn=conn_channel_fn)
    conn = client.connect_to_cluster(args.cluster)
    executor = conn.prepare_script(script)
    total = 0

    async def consume(sub):
        nonlocal total
        count = 0
        header = False
        async for row in sub:
            relation = row.relation
            if not header:
                emit({"table": sub.table_name, "columns": [[relation.get_col_name(i), TYPE_NAMES[relation._columns[i].column_type]] for i in range(relation.num_cols())],
                      "semantics": [vpb.SemanticType.Name(relation._columns[i].column_semantic_type) for i in range(relation.num_cols())]})
                header = True
            if args.mode == "rows":
                emit({"table": sub.table_name, "row": [canonical(row[i], relation._columns[i].column_type) for i in range(relation.num_cols())]})
            count += 1
        total += count
        emit({"table": sub.table_name, "count": count})

    # Subscribe before run_async: pxapi refuses subscriptions once the script has started.
    all_tables = executor.subscribe_all_tables()

    async def consume_all():
        tasks = []
        async for sub in all_tables():
            tasks.append(asyncio.ensure_future(consume(sub)))
        await asyncio.gather(*tasks)

    await asyncio.gather(executor.run_async(), consume_all())
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--addr", required=True)
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--api-key-env", required=True)
    parser.add_argument("--script", required=True)
    parser.add_argument("--tls-ca")
    parser.add_argument("--encrypt", action="store_true")
    parser.add_argument("--mode", choices=["rows", "count"], default="rows")
    args = parser.parse_args()
    with open(args.script) as f:
        script = f.read()
    started = time.perf_counter()
    try:
        total = asyncio.run(run(args, script))
    except Exception as error:  # report every failure as data for the test to judge
        message = str(error)
        details = error.details() if isinstance(error, grpc.RpcError) and hasattr(error, "details") else None
        code = error.code().name if isinstance(error, grpc.RpcError) and hasattr(error, "code") else None
        emit({"error": {"type": type(error).__name__, "message": message, "grpc_code": code, "grpc_details": details,
                        "compiler_errors": compiler_errors(message) if isinstance(error, pxapi.errors.PxLError) else []}})
        sys.exit(3)
    emit({"done": True, "rows": total, "seconds": time.perf_counter() - started,
          "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})


if __name__ == "__main__":
    main()
