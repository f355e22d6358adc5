#!/usr/bin/env python3
"""Reads every stream of source-botmaker through PyAirbyte into its default DuckDB cache and
compares the cached row counts with the mock's ground truth.

Run by run-pyairbyte.sh (which starts the mock and sets AIRBYTE_OFFLINE_MODE=1, DO_NOT_TRACK=1 and
a temporary AIRBYTE_PROJECT_DIR) with the binary as --executable (`local_executable=`), and by
run-wheel.sh with the wheel as --pip-url (`pip_url=`: PyAirbyte creates a virtual environment in
the project dir, installs the wheel into it and runs the `source-botmaker` it put there; this
script checks that it did, and the installed version with --expect-version). Two reads:
  1. the first sync: every stream, incremental where supported; the cache must then hold exactly
     the mock's count of each stream;
  2. a second sync with the state PyAirbyte kept: incremental streams re-read only what is not
     checkpointed yet, and the cache (merge on primary key) must still hold the same counts.
Prints a table; exits 1 on any mismatch or failed read.

Each sync is PyAirbyte's plain `source.read(cache)`, which configures EVERY stream as
`incremental` (airbyte 0.71.3 `Source.get_configured_catalog`), also the full-refresh-only ones;
the Python CDK then simply reads those in full. With --split-full-refresh, the full-refresh-only
streams are read in a separate `read(..., force_full_refresh=True)` instead (a workaround for a
connector that rejects `incremental` on them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from importlib.metadata import version

import airbyte as ab
from airbyte.exceptions import AirbyteConnectorFailedError, AirbyteConnectorInstallationError

REPORT: list[str] = []


def say(text: str = "") -> None:
    """Print a line of the report (run-pyairbyte.sh shows the report apart from PyAirbyte's output)."""
    print(text, flush=True)
    REPORT.append(text)


REJECTS_INCREMENTAL = "supports only full_refresh, but the catalog asks for incremental"


def read_counts(result: object) -> dict[str, int] | None:
    """Records received per stream in one read (PyAirbyte's progress tracker; None if absent)."""
    tracker = getattr(result, "_progress_tracker", None)
    counts = getattr(tracker, "stream_read_counts", None)
    return dict(counts) if counts is not None else None


def sync(source: object, cache: object, incremental: list[str], full_refresh_only: list[str], split: bool) -> tuple[dict[str, int] | None, float]:
    """One sync of every stream; returns the records received per stream and the seconds taken."""
    started = time.monotonic()
    if not split:
        counts = read_counts(source.read(cache=cache))
    else:
        counts = read_counts(source.read(cache=cache, streams=incremental))
        more = read_counts(source.read(cache=cache, streams=full_refresh_only, force_full_refresh=True))
        counts = None if counts is None or more is None else {**counts, **more}
    return counts, time.monotonic() - started


def explain(error: AirbyteConnectorFailedError) -> str:
    """The error, plus the known cause if the connector log shows it."""
    text = str(error)
    log_file = getattr(error, "log_file", None)
    if log_file and os.path.isfile(log_file):
        text += open(log_file, encoding="utf-8", errors="replace").read()
    if REJECTS_INCREMENTAL in text:
        return (
            "the connector rejected `sync_mode: incremental` for its full-refresh-only streams. "
            "PyAirbyte 0.71.3 configures every stream as incremental (its "
            "`Source.get_configured_catalog`: 'always incremental' unless force_full_refresh), and "
            "the Python CDK reads such streams in full; the connector should do the same. "
            "(--split-full-refresh / PYAIRBYTE_SPLIT_FULL_REFRESH=1 works around it.)"
        )
    return f"{type(error).__name__}: {error}"


def check_pip_install(executor: object, expect_version: str | None) -> str | None:
    """With pip_url: the connector must run from the virtual environment PyAirbyte created in the
    project dir, with the expected version installed. Returns what is wrong, or None."""
    from airbyte._executors.python import VenvExecutor
    from airbyte.constants import NO_UV

    if not isinstance(executor, VenvExecutor):
        return f"PyAirbyte chose {type(executor).__name__}, not its pip/venv installer"
    command = executor._cli  # the connector command PyAirbyte runs (airbyte 0.71.3)
    venv_bin = executor.interpreter_path.parent
    project = os.path.realpath(os.environ["AIRBYTE_PROJECT_DIR"])
    if command != [str(venv_bin / "source-botmaker")] or not os.path.realpath(venv_bin).startswith(project + os.sep):
        return f"PyAirbyte runs {command}, not source-botmaker from a virtual environment in {project}"
    if not os.access(command[0], os.X_OK):
        return f"{command[0]} is not an executable file"
    installed = executor.get_installed_version(raise_on_error=True, recheck=True)
    if expect_version and installed != expect_version:
        return f"the installed airbyte-source-botmaker is version {installed}, expected {expect_version}"
    say(f"install: airbyte-source-botmaker {installed} by {'pip' if NO_UV else 'uv'} into {venv_bin.parent}")
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    install = parser.add_mutually_exclusive_group(required=True)
    install.add_argument("--executable", help="the source-botmaker binary (local_executable=)")
    install.add_argument("--pip-url", help="what PyAirbyte pip-installs (pip_url=), e.g. the wheel's path")
    parser.add_argument("--expect-version", help="with --pip-url: the version the install must report")
    parser.add_argument("--api-url", required=True, help="the mock's base URL (…/v2.0)")
    parser.add_argument("--token", required=True)
    parser.add_argument("--start-date", required=True)
    parser.add_argument("--counts-url", required=True, help="the mock's /_mock/counts")
    parser.add_argument("--report", help="also write the report lines to this file")
    parser.add_argument(
        "--split-full-refresh",
        action="store_true",
        help="read full-refresh-only streams with force_full_refresh=True in a separate read",
    )
    args = parser.parse_args()

    for var in ("AIRBYTE_OFFLINE_MODE", "AIRBYTE_PROJECT_DIR"):
        if not os.environ.get(var):
            print(f"{var} is not set; run this through run-pyairbyte.sh", file=sys.stderr)
            return 2

    expected: dict[str, int] = json.loads(urllib.request.urlopen(args.counts_url, timeout=10).read())
    config = {
        "access_token": args.token,
        "start_date": args.start_date,
        "api_url": args.api_url,
        "long_term_search": True,
    }
    if args.pip_url:
        try:
            source = ab.get_source("source-botmaker", config=config, pip_url=args.pip_url, streams="*")
        except AirbyteConnectorInstallationError as error:
            # The installer's own output is on the cause (PyAirbyte's AirbyteSubprocessFailedError).
            say(f"\nFAILED: PyAirbyte could not install {args.pip_url}: {error}\n{error.__cause__ or ''}")
            return 1
        problem = check_pip_install(source.executor, args.expect_version)
        if problem:
            say(f"\nFAILED: {problem}")
            return 1
    else:
        source = ab.get_source(
            "source-botmaker",
            config=config,
            local_executable=args.executable,
            streams="*",
            install_if_missing=False,
        )
    source.check()
    say("check: SUCCEEDED")
    available = sorted(source.get_available_streams())
    say(f"discover: {len(available)} streams: {', '.join(available)}")

    catalog = source.discovered_catalog
    incremental = sorted(st.name for st in catalog.streams if "incremental" in [m.value for m in st.supported_sync_modes])
    full_refresh_only = sorted(set(available) - set(incremental))
    say(f"incremental: {', '.join(incremental)}; full refresh only: {', '.join(full_refresh_only)}")
    if args.split_full_refresh:
        say("workaround: full-refresh-only streams are read separately with force_full_refresh=True")

    cache = ab.get_default_cache()
    say(f"cache: {type(cache).__name__} {getattr(cache, 'db_path', '')}")
    try:
        first_read, first_seconds = sync(source, cache, incremental, full_refresh_only, args.split_full_refresh)
        first_rows = {name: len(cache[name]) for name in available}
        second_read, second_seconds = sync(source, cache, incremental, full_refresh_only, args.split_full_refresh)
        second_rows = {name: len(cache[name]) for name in available}
    except AirbyteConnectorFailedError as error:
        say(f"\nFAILED: PyAirbyte's read failed: {explain(error)}")
        return 1

    problems: list[str] = []
    if sorted(expected) != available:
        problems.append(f"streams: PyAirbyte discovered {available}, the mock serves {sorted(expected)}")

    def cell(counts: dict[str, int] | None, name: str) -> str:
        return "?" if counts is None else str(counts.get(name, 0))

    header = f"{'stream':<10} {'mock':>7} {'read 1':>7} {'rows':>7} {'read 2':>7} {'rows':>7}  result"
    say(f"\nPyAirbyte {version('airbyte')} -> DuckDB; read 1 = first sync, read 2 = incremental re-sync")
    say(header)
    say("-" * len(header))
    for name in available:
        want = expected.get(name)
        ok = want is not None and first_rows[name] == want and second_rows[name] == want
        if not ok:
            problems.append(
                f"{name}: mock {want}, cache rows after read 1 {first_rows[name]}, after read 2 {second_rows[name]}"
            )
        say(
            f"{name:<10} {want if want is not None else '-':>7} {cell(first_read, name):>7} "
            f"{first_rows[name]:>7} {cell(second_read, name):>7} {second_rows[name]:>7}  "
            f"{'ok' if ok else 'MISMATCH'}"
        )
    total = sum(first_rows.values())
    say("-" * len(header))
    say(
        f"{'total':<10} {sum(expected.values()):>7} {sum((first_read or {}).values()):>7} {total:>7} "
        f"{sum((second_read or {}).values()):>7} {sum(second_rows.values()):>7}"
    )
    say(f"read 1 took {first_seconds:.1f} s, read 2 {second_seconds:.1f} s")

    if problems:
        say("\nFAILED:\n" + "\n".join(f"  - {p}" for p in problems))
        return 1
    say("\nPyAirbyte check OK: every stream's row count equals the mock's, after both reads")
    return 0


def run() -> int:
    args_report = None
    if "--report" in sys.argv:
        args_report = sys.argv[sys.argv.index("--report") + 1]
    try:
        return main()
    finally:
        if args_report:
            with open(args_report, "w", encoding="utf-8") as f:
                f.write("\n".join(REPORT) + "\n")


if __name__ == "__main__":
    sys.exit(run())
