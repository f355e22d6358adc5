#!/usr/bin/env bash
# Packaging checks, run by .ci/run after the Rust tests (fresh machine, root, offline except the
# Debian mirror, crates.io, rustup and PyPI):
#   1. image        acceptance-tests/build-image.sh    static binary + runtime stage of the Dockerfile, <= 15 MB
#   2. container    acceptance-tests/container-smoke.sh  spec/check/discover/read in the image vs the mock
#   3. wheel        scripts/build-wheel.sh             the image's binary as a pip wheel (maturin), size
#   4. python venv  airbyte-cdk + PyAirbyte, pinned (acceptance-tests/requirements.txt, constraints.txt);
#                   created in the background during steps 1-3
#   5. cdk tests    acceptance-tests/run-cdk-tests.sh  airbyte-cdk's standard tests on the image
#   6. pyairbyte    acceptance-tests/run-pyairbyte.sh  PyAirbyte -> DuckDB, row counts vs the mock
#   7. wheel check  acceptance-tests/run-wheel.sh      the wheel in a fresh venv (spec), and PyAirbyte
#                   by pip_url -> DuckDB, row counts vs the mock
# Idempotent; apt/pip/cargo/podman output goes to acceptance-tests/.work/logs and is shown on failure.
# A failed image build stops here; otherwise every step runs and the script fails at the end if
# any step failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export IMAGE=${IMAGE:-airbyte/source-botmaker:dev}
AT=acceptance-tests

names=()
results=()
venv_note=
failed=0
step() {
  local name=$1 start rc=0 ms
  shift
  echo ":::: packaging: $name"
  start=$(date +%s%N)
  "$@" || rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  names+=("$name")
  results+=("$(printf '%5d.%d s  %s' $((ms / 1000)) $((ms % 1000 / 100)) "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")")${venv_note:-}")
  venv_note=
  echo ":::: packaging: $name took $((ms / 1000)).$((ms % 1000 / 100)) s$([ $rc -eq 0 ] || echo ", FAILED (exit $rc)")"
  [ $rc -eq 0 ] || failed=1
  return 0
}
summary() {
  echo ":::: packaging summary (image $IMAGE)"
  local i
  for i in "${!names[@]}"; do
    printf '::::   %-12s %s\n' "${names[$i]}" "${results[$i]}"
  done
}

total_start=$(date +%s)
# The venv (pip: network-bound) is created in the background while the image builds (cargo:
# CPU-bound); step "python venv" waits for it and reports its own duration.
LOGS=${PACKAGING_WORK:-$AT/.work}/logs
mkdir -p "$LOGS"
(
  s=$(date +%s%N)
  rc=0
  bash -c ". '$AT/lib.sh' && ensure_venv" >"$LOGS/venv-step.log" 2>&1 || rc=$?
  echo "$rc $((($(date +%s%N) - s) / 1000000))" >"$LOGS/venv-step.result"
) &
venv_pid=$!
wait_venv() {
  wait "$venv_pid" || true
  cat "$LOGS/venv-step.log"
  local rc ms
  read -r rc ms <"$LOGS/venv-step.result"
  venv_note="  (waited; created in the background in $((ms / 1000)).$((ms % 1000 / 100)) s)"
  echo "${venv_note# }"
  return "$rc"
}
rm -f "$LOGS/venv-step.result"

step image bash "$AT/build-image.sh"
if [ "$failed" -ne 0 ]; then
  wait "$venv_pid" || true
  summary
  echo ":::: packaging FAILED: the image could not be built" >&2
  exit 1
fi
export SKIP_IMAGE_BUILD=1 SKIP_CARGO_BUILD=1
step container bash "$AT/container-smoke.sh"
step wheel bash scripts/build-wheel.sh
step "python venv" wait_venv
step "cdk tests" bash "$AT/run-cdk-tests.sh"
step pyairbyte bash "$AT/run-pyairbyte.sh"
step "wheel check" env SKIP_WHEEL_BUILD=1 bash "$AT/run-wheel.sh"
summary
echo ":::: packaging took $(($(date +%s) - total_start)) s"
if [ "$failed" -ne 0 ]; then
  echo ":::: packaging FAILED (logs: $AT/.work/logs)" >&2
  exit 1
fi
echo ":::: packaging OK"
