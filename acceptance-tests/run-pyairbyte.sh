#!/usr/bin/env bash
# PyAirbyte check: reads every stream of the connector (the static release binary, as
# `local_executable`) through PyAirbyte 0.71.3 into its default DuckDB cache, offline
# (AIRBYTE_OFFLINE_MODE=1, DO_NOT_TRACK=1, a temporary AIRBYTE_PROJECT_DIR), twice (first sync,
# then an incremental one), and compares per-stream row counts with botmaker-mock's /_mock/counts;
# then checks the typed landing: date-time fields as timestamps, integers as integers, each holding
# the value the connector emitted. See pyairbyte_check.py. MOCK_SCALE (default here 1000) sets the data volume;
# PYAIRBYTE_SPLIT_FULL_REFRESH=1 reads the full-refresh-only streams in a separate
# force_full_refresh read (workaround for a connector that rejects PyAirbyte's all-incremental
# catalog; off by default, so the check covers what a PyAirbyte user does).
#
# Usage: acceptance-tests/run-pyairbyte.sh
MOCK_SCALE=${MOCK_SCALE:-1000}
. "$(dirname "$0")/lib.sh"

build_binaries
ensure_venv

PROJECT=$(mktemp -d "${TMPDIR:-/tmp}/pyairbyte.XXXXXX")
start_mock
trap 'stop_mock; rm -rf "$PROJECT"' EXIT

log "PyAirbyte read into DuckDB (project dir $PROJECT; log in $LOG_DIR/pyairbyte.log)"
extra=()
[ "${PYAIRBYTE_SPLIT_FULL_REFRESH:-0}" = 1 ] && extra+=(--split-full-refresh)
rc=0
rm -f "$LOG_DIR/pyairbyte-report.txt"
(
  cd "$PROJECT"
  AIRBYTE_OFFLINE_MODE=1 DO_NOT_TRACK=1 AIRBYTE_PROJECT_DIR="$PROJECT" NO_COLOR=1 \
    "$VENV/bin/python" "$AT_DIR/pyairbyte_check.py" \
    --executable "$CONNECTOR_BIN" --api-url "$MOCK_URL" --token "$MOCK_TOKEN" \
    --start-date "$(date -u -d "-$((MOCK_SPAN_DAYS + 1)) days" +%F)" \
    --counts-url "http://127.0.0.1:$MOCK_PORT/_mock/counts" --report "$LOG_DIR/pyairbyte-report.txt" \
    "${extra[@]}"
) >"$LOG_DIR/pyairbyte.log" 2>&1 || rc=$?
# The script's report: the table and the verdict (PyAirbyte's progress output stays in the log).
cat "$LOG_DIR/pyairbyte-report.txt" 2>/dev/null || true
if [ "$rc" -ne 0 ]; then
  echo "--- last 60 lines of $LOG_DIR/pyairbyte.log ---" >&2
  tail -n 60 "$LOG_DIR/pyairbyte.log" >&2
  die "PyAirbyte check (exit $rc)"
fi
