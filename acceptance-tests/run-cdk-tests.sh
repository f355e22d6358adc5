#!/usr/bin/env bash
# Runs airbyte-cdk's standard source tests (airbyte_cdk.test.standard_tests, DockerConnectorTestSuite)
# against the connector image, with botmaker-mock as the API:
#   spec (+ spec lint), config vs spec, check with the mock's token (SUCCEEDED) and a wrong one
#   (FAILED, exit 0, no secret in the output), discover, and a full-refresh read of every stream.
# The CDK tests call `docker run ...`; bin/docker forwards to podman (--network host).
#
# The CDK takes the connector's name from its root directory and reads metadata.yaml and
# acceptance-test-config.yml there, so the root is assembled in a temporary directory named
# `source-botmaker` (whatever this checkout is called): copies of metadata.yaml, spec/, catalog/,
# acceptance-test-config.yml and integration_tests/, plus secrets/ written for the running mock.
#
# Fails if any test fails, if a spec/check/discover/read test is skipped (other than for a
# scenario it does not apply to) -- see cdk_summary.py.
#
# Usage: acceptance-tests/run-cdk-tests.sh        (IMAGE=... to choose the tag; extra args go to pytest)
. "$(dirname "$0")/lib.sh"

ensure_image
build_binaries
ensure_venv

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cdk-tests.XXXXXX")
ROOT=$TMP/source-botmaker
start_mock
trap 'stop_mock; rm -rf "$TMP"' EXIT

mkdir -p "$ROOT"
cp "$REPO/metadata.yaml" "$AT_DIR/acceptance-test-config.yml" "$ROOT/"
cp -r "$REPO/spec" "$REPO/catalog" "$ROOT/"
mkdir -p "$ROOT/integration_tests"
cp "$AT_DIR"/integration_tests/*.py "$AT_DIR"/integration_tests/*.json "$ROOT/integration_tests/"
write_configs "$ROOT/secrets"

JUNIT=$LOG_DIR/cdk-junit.xml
PYTEST_LOG=$LOG_DIR/cdk-pytest.log
rm -f "$JUNIT" "$LOG_DIR/docker-shim.log"
log "pytest airbyte_cdk standard tests on $IMAGE (connector root $ROOT; full output in $PYTEST_LOG)"
rc=0
(
  cd "$ROOT"
  PATH="$AT_DIR/bin:$VENV/bin:$PATH" DOCKER_SHIM_LOG="$LOG_DIR/docker-shim.log" \
    "$VENV/bin/python" -m pytest -p airbyte_cdk.test.standard_tests.pytest_hooks \
    integration_tests/test_standard.py -m image_tests \
    --connector-image "$IMAGE" --read-from-streams=all -rA \
    -p no:cacheprovider --junitxml "$JUNIT" "$@"
) >"$PYTEST_LOG" 2>&1 || rc=$?

# pytest's own summary (`-rA`: one line per test, with skip reasons), then the enforced rules.
sed -n '/short test summary info/,$p' "$PYTEST_LOG"
if [ ! -s "$JUNIT" ]; then
  tail -n 80 "$PYTEST_LOG" >&2
  die "pytest produced no report (exit $rc)"
fi
if ! "$VENV/bin/python" "$AT_DIR/cdk_summary.py" "$JUNIT"; then
  echo "--- last 120 lines of $PYTEST_LOG ---" >&2
  tail -n 120 "$PYTEST_LOG" >&2
  die "airbyte-cdk standard tests"
fi
[ "$rc" -eq 0 ] || die "pytest exited with $rc"
echo "airbyte-cdk standard tests OK ($IMAGE)"
