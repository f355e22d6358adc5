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
Then the typed landing: every top-level `format: date-time` field must be a TIMESTAMP column and
every `integer` field an integer column in DuckDB, and each row must hold the value the connector
emitted for it (read again straight from the executable, full refresh): the same instant wherever
a non-empty string was emitted (no NULL for a value DuckDB could not parse; PyAirbyte's DuckDB
cache stores timestamp_with_timezone as a TIMESTAMP in UTC), the same integer wherever one was
emitted.
Prints tables; exits 1 on any mismatch or failed read.

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
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from importlib.metadata import version

import airbyte as ab
import sqlalchemy.exc
from airbyte._util.name_normalizers import LowerCaseNormalizer
from airbyte.exceptions import AirbyteConnectorFailedError, AirbyteConnectorInstallationError
from airbyte.shared.sql_processor import SQLRuntimeError

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


INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def typed_fields(json_schema: dict) -> dict[str, str]:
    """Top-level fields that must land typed: name -> "timestamp" or "integer"."""
    fields = {}
    for name, prop in (json_schema.get("properties") or {}).items():
        types = prop.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if "string" in types and prop.get("format") == "date-time":
            fields[name] = "timestamp"
        elif "integer" in types:
            fields[name] = "integer"
    return fields


def emitted_values(executable: str, config: dict, catalog, wanted: dict[str, dict[str, str]]) -> dict:
    """Reads every stream in full straight from the connector; returns
    {stream: {primary key (a tuple of its fields): {field: value as emitted}}} for the fields in
    `wanted`."""
    configured = {"streams": []}
    keys = {}
    for stream in catalog.streams:
        keys[stream.name] = [path[0] for path in stream.source_defined_primary_key]
        configured["streams"].append(
            {
                "stream": json.loads(stream.model_dump_json(exclude_none=True)),
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
        )
    values: dict[str, dict] = {name: {} for name in keys}
    with tempfile.TemporaryDirectory() as tmp:
        config_file, catalog_file = os.path.join(tmp, "config.json"), os.path.join(tmp, "catalog.json")
        with open(config_file, "w", encoding="utf-8") as f:
            json.dump(config, f)
        with open(catalog_file, "w", encoding="utf-8") as f:
            json.dump(configured, f)
        with subprocess.Popen(
            [executable, "read", "--config", config_file, "--catalog", catalog_file],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        ) as process:
            for line in process.stdout:
                message = json.loads(line)
                if message.get("type") != "RECORD":
                    continue
                record = message["record"]
                stream, data = record["stream"], record["data"]
                key = tuple(key_part(data.get(k)) for k in keys[stream])
                values[stream][key] = {f: data.get(f) for f in wanted.get(stream, {})}
        if process.returncode != 0:
            raise RuntimeError(f"the connector's own full-refresh read exited with {process.returncode}")
    return values


def parse_emitted_timestamp(value: object) -> datetime | None:
    """The instant an emitted date-time string names (None if it names none)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def key_part(value: object) -> object:
    """A primary-key value in a form both sides share: DuckDB gives a date-time key (agent_performance's
    `checkin`) back as a datetime, the connector emitted it as RFC 3339 text."""
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    parsed = parse_emitted_timestamp(value)
    return parsed.astimezone(timezone.utc) if parsed is not None else value


def typed_landing(cache: object, catalog, emitted: dict, wanted: dict[str, dict[str, str]]) -> list[str]:
    """Compares column types and values in the cache with what the connector emitted; prints a
    table and returns the problems."""
    problems: list[str] = []
    schema = cache.schema_name
    header = f"{'stream':<24} {'column':<28} {'kind':<9} {'DuckDB type':<26} {'values':>7}  result"
    say("\nTyped landing in DuckDB (values compared with the connector's own full-refresh read)")
    say(header)
    say("-" * len(header))
    for stream in catalog.streams:
        fields = wanted.get(stream.name, {})
        if not fields:
            continue
        table = cache.processor.get_sql_table_name(stream.name)
        column_types = {
            row["column_name"]: row["data_type"]
            for row in cache.run_sql_query(
                "SELECT column_name, data_type FROM information_schema.columns "
                f"WHERE table_schema = '{schema}' AND table_name = '{table}'"
            )
        }
        key = ", ".join(path[0] for path in stream.source_defined_primary_key)
        key_columns = [LowerCaseNormalizer.normalize(path[0]) for path in stream.source_defined_primary_key]
        key_select = ", ".join(f'"{c}" AS k{i}' for i, c in enumerate(key_columns))
        for field, kind in fields.items():
            column = LowerCaseNormalizer.normalize(field)
            sql_type = column_types.get(column)
            bad: list[str] = []
            compared = mismatched = 0
            if sql_type is None:
                bad.append("no such column")
            elif kind == "timestamp" and not sql_type.startswith("TIMESTAMP"):
                bad.append(f"a date-time field landed as {sql_type}")
            elif kind == "integer" and sql_type not in INTEGER_TYPES:
                bad.append(f"an integer field landed as {sql_type}")
            else:
                landed = {
                    tuple(key_part(row[f"k{i}"]) for i in range(len(key_columns))): row["v"]
                    for row in cache.run_sql_query(f'SELECT {key_select}, "{column}" AS v FROM {schema}.{table}')
                }
                for pk, source in emitted.get(stream.name, {}).items():
                    value = source.get(field)
                    if value is None or (isinstance(value, str) and not value.strip()):
                        continue  # nothing to land: NULL is right
                    compared += 1
                    got = landed.get(pk, "(no row)")
                    if kind == "timestamp":
                        want = parse_emitted_timestamp(value)
                        if isinstance(got, datetime) and got.tzinfo is None:
                            # PyAirbyte's DuckDB cache lands timestamp_with_timezone as a plain
                            # TIMESTAMP holding UTC.
                            got = got.replace(tzinfo=timezone.utc)
                        ok = want is not None and isinstance(got, datetime) and got == want
                    else:
                        ok = isinstance(value, int) and got == value
                    if not ok:
                        mismatched += 1
                        if mismatched <= 3:
                            shown = pk[0] if len(pk) == 1 else pk
                            bad.append(f"{key}={shown!r}: emitted {value!r}, cache holds {got!r}")
                if mismatched > 3:
                    bad.append(f"... {mismatched - 3} more of {compared} values differ")
            verdict = "ok" if not bad else "MISMATCH"
            say(f"{stream.name:<24} {column:<28} {kind:<9} {sql_type or '-':<26} {compared:>7}  {verdict}")
            problems += [f"{stream.name}.{column}: {b}" for b in bad]
    return problems


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
        "include_bi_dashboards": True,
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
        # The values PyAirbyte should land are read from the program it installed.
        executable = source.executor._cli[0]
    else:
        executable = args.executable
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
    except (SQLRuntimeError, sqlalchemy.exc.SQLAlchemyError) as error:
        # Loading the records into DuckDB failed (PyAirbyte casts each column to its schema type).
        # The message holds the whole SQL statement; DuckDB's own words are on the line naming
        # the exception.
        lines = str(error).splitlines() or [""]
        first_line = next((l for l in reversed(lines) if "Exception" in l or "Error:" in l), lines[0])[:600]
        hint = ""
        if "invalid timestamp field format" in first_line:
            hint = (
                " A `format: date-time` field held a string DuckDB cannot read as a timestamp "
                "(an empty string, or not RFC 3339); the connector must emit RFC 3339 or null."
            )
        say(f"\nFAILED: PyAirbyte could not load the records into DuckDB: {first_line}{hint}")
        return 1

    problems: list[str] = []
    if sorted(expected) != available:
        problems.append(f"streams: PyAirbyte discovered {available}, the mock serves {sorted(expected)}")

    def cell(counts: dict[str, int] | None, name: str) -> str:
        return "?" if counts is None else str(counts.get(name, 0))

    header = f"{'stream':<24} {'mock':>7} {'read 1':>7} {'rows':>7} {'read 2':>7} {'rows':>7}  result"
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
            f"{name:<24} {want if want is not None else '-':>7} {cell(first_read, name):>7} "
            f"{first_rows[name]:>7} {cell(second_read, name):>7} {second_rows[name]:>7}  "
            f"{'ok' if ok else 'MISMATCH'}"
        )
    total = sum(first_rows.values())
    say("-" * len(header))
    say(
        f"{'total':<24} {sum(expected.values()):>7} {sum((first_read or {}).values()):>7} {total:>7} "
        f"{sum((second_read or {}).values()):>7} {sum(second_rows.values()):>7}"
    )
    say(f"read 1 took {first_seconds:.1f} s, read 2 {second_seconds:.1f} s")

    wanted = {stream.name: typed_fields(stream.json_schema) for stream in catalog.streams}
    try:
        emitted = emitted_values(executable, config, catalog, wanted)
    except (RuntimeError, json.JSONDecodeError, KeyError) as error:
        problems.append(f"typed landing: {error}")
    else:
        problems += typed_landing(cache, catalog, emitted, wanted)

    if problems:
        say("\nFAILED:\n" + "\n".join(f"  - {p}" for p in problems))
        return 1
    say(
        "\nPyAirbyte check OK: every stream's row count equals the mock's, after both reads; "
        "date-times land as timestamps and integers as integers, with the values emitted"
    )
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
