#!/usr/bin/env bash
# The pip wheel (scripts/build-wheel.sh), used the two ways it is meant for:
#   1. `pip install <wheel>` into a fresh virtual environment (with --no-index: nothing is
#      downloaded): `source-botmaker` is on the environment's PATH, reports Cargo.toml's version,
#      and its `spec` equals spec/spec.json; the package's metadata version is Cargo.toml's too.
#   2. PyAirbyte 0.71.3 `get_source("source-botmaker", pip_url=<wheel>, ...)` against botmaker-mock:
#      PyAirbyte creates its own virtual environment and installs the wheel with uv (its default;
#      `uv` is on PATH as in an activated PyAirbyte environment), then check() and two reads of
#      every stream into DuckDB, with row counts equal to the mock's (pyairbyte_check.py
#      --pip-url). UV_OFFLINE=1 and PIP_NO_INDEX=1 make any attempt to reach a package index, and
#      UV_PYTHON_DOWNLOADS=never any Python download, fail the check: installing the wheel needs
#      no network.
#
# Usage: acceptance-tests/run-wheel.sh        (SKIP_WHEEL_BUILD=1: use the wheel already in
#        target/wheels, as .ci/packaging.sh does right after building it)
MOCK_SCALE=${MOCK_SCALE:-1000}
. "$(dirname "$0")/lib.sh"

build_binaries
if [ "${SKIP_WHEEL_BUILD:-0}" != 1 ]; then
  bash "$REPO/scripts/build-wheel.sh"
fi
shopt -s nullglob
wheels=("${WHEEL_DIR:-$TARGET_DIR/wheels}"/airbyte_source_botmaker-*.whl)
shopt -u nullglob
[ ${#wheels[@]} -eq 1 ] || die "expected one airbyte_source_botmaker wheel in ${WHEEL_DIR:-$TARGET_DIR/wheels}, found ${#wheels[@]}; run scripts/build-wheel.sh"
WHEEL=${wheels[0]}
VERSION=$(awk -F'"' '/^\[package\]/ { p = 1 } p && /^version *=/ { print $2; exit }' "$REPO/Cargo.toml")
ensure_venv

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wheel-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

log "pip install $(basename "$WHEEL") into a fresh virtual environment (--no-index)"
run_logged wheel-venv "${PYTHON:-python3}" -m venv "$TMP/venv"
run_logged wheel-pip-install "$TMP/venv/bin/python" -m pip install --no-index --disable-pip-version-check "$WHEEL"
on_path=$(PATH="$TMP/venv/bin:$PATH" command -v source-botmaker || true)
[ "$on_path" = "$TMP/venv/bin/source-botmaker" ] ||
  die "after pip install, source-botmaker on PATH is '${on_path}', not the virtual environment's"
reported=$(PATH="$TMP/venv/bin:$PATH" source-botmaker --version)
[ "$reported" = "source-botmaker $VERSION" ] || die "source-botmaker --version says '$reported', Cargo.toml's version is $VERSION"
installed=$("$TMP/venv/bin/python" -c "from importlib.metadata import version; print(version('airbyte-source-botmaker'))")
[ "$installed" = "$VERSION" ] || die "pip installed airbyte-source-botmaker $installed, Cargo.toml's version is $VERSION"
PATH="$TMP/venv/bin:$PATH" source-botmaker spec </dev/null >"$TMP/spec.jsonl"
python3 "$AT_DIR/check_output.py" spec "$TMP/spec.jsonl" --equals "$REPO/spec/spec.json"
echo "    ok: $on_path is version $VERSION"

PROJECT=$TMP/pyairbyte
mkdir -p "$PROJECT"
start_mock
trap 'stop_mock; rm -rf "$TMP"' EXIT
log "PyAirbyte get_source(pip_url=<wheel>) read into DuckDB (project dir $PROJECT; log in $LOG_DIR/pyairbyte-pip.log)"
rc=0
rm -f "$LOG_DIR/pyairbyte-pip-report.txt"
(
  cd "$PROJECT"
  PATH="$VENV/bin:$PATH" UV_OFFLINE=1 PIP_NO_INDEX=1 UV_PYTHON_DOWNLOADS=never UV_CACHE_DIR="$TMP/uv-cache" \
    AIRBYTE_OFFLINE_MODE=1 DO_NOT_TRACK=1 AIRBYTE_PROJECT_DIR="$PROJECT" NO_COLOR=1 \
    "$VENV/bin/python" "$AT_DIR/pyairbyte_check.py" \
    --pip-url "$WHEEL" --expect-version "$VERSION" --api-url "$MOCK_URL" --token "$MOCK_TOKEN" \
    --start-date "$(date -u -d "-$((MOCK_SPAN_DAYS + 1)) days" +%F)" \
    --counts-url "http://127.0.0.1:$MOCK_PORT/_mock/counts" --report "$LOG_DIR/pyairbyte-pip-report.txt"
) >"$LOG_DIR/pyairbyte-pip.log" 2>&1 || rc=$?
cat "$LOG_DIR/pyairbyte-pip-report.txt" 2>/dev/null || true
if [ "$rc" -ne 0 ]; then
  echo "--- last 60 lines of $LOG_DIR/pyairbyte-pip.log ---" >&2
  tail -n 60 "$LOG_DIR/pyairbyte-pip.log" >&2
  die "PyAirbyte by pip_url (exit $rc)"
fi
echo "wheel check OK ($(basename "$WHEEL"))"
