#!/usr/bin/env python3
"""Assertions on a connector's stdout (Airbyte protocol, one JSON message per line).

Used by container-smoke.sh; standard library only, so it runs with any python3.

  check_output.py spec FILE [--equals SPEC_JSON] exactly one SPEC message (whose spec equals SPEC_JSON)
  check_output.py status FILE SUCCEEDED|FAILED   exactly one CONNECTION_STATUS, with that status
  check_output.py catalog FILE N                 one CATALOG with N streams
  check_output.py records FILE [--counts JSON] [--streams a,b] [--zero a,b]
        RECORDs: per-stream counts equal to JSON ({stream: n}), or at least one record of each
        of --streams, and none of --zero; no ERROR trace; a STATE for every stream read
  check_output.py inspect CONFIG_JSON VERSION REPOSITORY
        `podman image inspect --format '{{json .Config}}'` output: labels, entrypoint, env, user

Every command also fails on non-JSON stdout lines and, with --secret S (repeatable), on any
output line that contains S.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys


def fail(message: str) -> None:
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def load(path: str, secrets: list[str]) -> list[dict]:
    messages = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            for secret in secrets:
                if secret and secret in line:
                    fail(f"{path}:{number}: the output contains a secret from the config")
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                fail(f"{path}:{number}: not a JSON line: {line[:200]!r}")
            if not isinstance(message, dict) or "type" not in message:
                fail(f"{path}:{number}: not an Airbyte message: {line[:200]!r}")
            messages.append(message)
    return messages


def of_type(messages: list[dict], kind: str) -> list[dict]:
    return [m for m in messages if m["type"] == kind]


def errors(messages: list[dict]) -> list[str]:
    return [
        m["trace"]["error"].get("message", "")
        for m in of_type(messages, "TRACE")
        if m["trace"].get("type") == "ERROR"
    ]


def cmd_spec(args: argparse.Namespace) -> str:
    specs = of_type(load(args.file, args.secret), "SPEC")
    if len(specs) != 1:
        fail(f"expected one SPEC message, got {len(specs)}")
    props = specs[0]["spec"]["connectionSpecification"].get("properties", {})
    if args.equals:
        with open(args.equals, encoding="utf-8") as f:
            if specs[0]["spec"] != json.load(f):
                fail(f"the SPEC message's spec differs from {args.equals}")
        return f"SPEC with {len(props)} config properties, equal to {args.equals}"
    return f"SPEC with {len(props)} config properties"


def cmd_status(args: argparse.Namespace) -> str:
    messages = load(args.file, args.secret)
    statuses = of_type(messages, "CONNECTION_STATUS")
    if len(statuses) != 1:
        fail(f"expected one CONNECTION_STATUS, got {len(statuses)}; errors: {errors(messages)}")
    status = statuses[0]["connectionStatus"]
    if status["status"] != args.expected:
        fail(f"expected {args.expected}, got {status}")
    return f"CONNECTION_STATUS {status['status']}" + (
        f": {status['message']}" if status.get("message") else ""
    )


def cmd_catalog(args: argparse.Namespace) -> str:
    messages = load(args.file, args.secret)
    catalogs = of_type(messages, "CATALOG")
    if len(catalogs) != 1:
        fail(f"expected one CATALOG, got {len(catalogs)}; errors: {errors(messages)}")
    names = [s["name"] for s in catalogs[0]["catalog"]["streams"]]
    if len(names) != args.count:
        fail(f"expected {args.count} streams, got {names}")
    return f"CATALOG with {len(names)} streams: {', '.join(names)}"


def cmd_records(args: argparse.Namespace) -> str:
    messages = load(args.file, args.secret)
    if errors(messages):
        fail(f"ERROR traces: {errors(messages)}")
    counts = collections.Counter(m["record"]["stream"] for m in of_type(messages, "RECORD"))
    states = {
        m["state"]["stream"]["stream_descriptor"]["name"]
        for m in of_type(messages, "STATE")
        if m["state"].get("type") == "STREAM"
    }
    if args.counts is not None:
        expected = json.loads(args.counts)
        for stream in sorted(set(expected) | set(counts)):
            if counts.get(stream, 0) != expected.get(stream, 0):
                fail(
                    f"stream {stream}: {counts.get(stream, 0)} records, expected "
                    f"{expected.get(stream, 0)} (all: {dict(counts)}, expected {expected})"
                )
    wanted = [s for s in (args.streams or "").split(",") if s]
    missing = [s for s in wanted if counts.get(s, 0) == 0]
    if missing:
        fail(f"no RECORD of {missing}; got {dict(counts)}")
    unexpected = [s for s in (args.zero or "").split(",") if s and counts.get(s, 0)]
    if unexpected:
        fail(f"records of {unexpected} where none were expected; got {dict(counts)}")
    read = set(counts) | set(wanted) | {s for s in (args.zero or "").split(",") if s}
    stateless = sorted(read - states)
    if stateless:
        fail(f"no STATE message for {stateless}")
    total = sum(counts.values())
    return f"{total} RECORDs: " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items()))


def cmd_inspect(args: argparse.Namespace) -> str:
    config = json.loads(open(args.file, encoding="utf-8").read())
    labels = config.get("Labels") or {}
    if labels.get("io.airbyte.name") != args.repository:
        fail(f"label io.airbyte.name = {labels.get('io.airbyte.name')!r}, expected {args.repository!r}")
    if labels.get("io.airbyte.version") != args.version:
        fail(f"label io.airbyte.version = {labels.get('io.airbyte.version')!r}, expected {args.version!r}")
    env = dict(e.split("=", 1) for e in config.get("Env") or [])
    entrypoint = config.get("Entrypoint") or []
    if env.get("AIRBYTE_ENTRYPOINT") != " ".join(entrypoint):
        fail(f"AIRBYTE_ENTRYPOINT {env.get('AIRBYTE_ENTRYPOINT')!r} != ENTRYPOINT {entrypoint}")
    if not entrypoint or not entrypoint[0].startswith("/"):
        fail(f"ENTRYPOINT must be an absolute path: {entrypoint}")
    user = config.get("User") or ""
    if user.split(":")[0] in ("", "0", "root"):
        fail(f"the image runs as root (User {user!r})")
    return (
        f"labels {args.repository}:{args.version}, ENTRYPOINT {entrypoint} == AIRBYTE_ENTRYPOINT, "
        f"User {user}, WorkingDir {config.get('WorkingDir')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secret", action="append", default=[])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("spec")
    p.add_argument("file")
    p.add_argument("--equals", metavar="SPEC_JSON", help="the spec must equal this file's JSON")
    p.set_defaults(run=cmd_spec)
    p = sub.add_parser("status")
    p.add_argument("file")
    p.add_argument("expected", choices=["SUCCEEDED", "FAILED"])
    p.set_defaults(run=cmd_status)
    p = sub.add_parser("catalog")
    p.add_argument("file")
    p.add_argument("count", type=int)
    p.set_defaults(run=cmd_catalog)
    p = sub.add_parser("records")
    p.add_argument("file")
    p.add_argument("--counts")
    p.add_argument("--streams")
    p.add_argument("--zero")
    p.set_defaults(run=cmd_records)
    p = sub.add_parser("inspect")
    p.add_argument("file")
    p.add_argument("version")
    p.add_argument("repository")
    p.set_defaults(run=cmd_inspect)
    args = parser.parse_args()
    print(f"    ok: {args.run(args)}")


if __name__ == "__main__":
    main()
