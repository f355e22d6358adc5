#!/usr/bin/env bash
# Container smoke test: runs the built image (build-image.sh) against botmaker-mock on the host's
# loopback, the way users (`docker run ... read`) and the Airbyte platform
# (`sh -c 'eval "$AIRBYTE_ENTRYPOINT read ..."'` as a non-root user) run it:
#   image metadata (labels, ENTRYPOINT == AIRBYTE_ENTRYPOINT, non-root user), spec, check with a
#   good and a wrong token, discover, read of every stream (record counts equal to the mock's),
#   the platform-style launch, a read with a state in the future, and SSL_CERT_FILE.
#
# Usage: acceptance-tests/container-smoke.sh      (IMAGE=... to choose the tag)
. "$(dirname "$0")/lib.sh"

ensure_image
build_binaries

WORK=$(mktemp -d "${TMPDIR:-/tmp}/container-smoke.XXXXXX")
SECRETS=$WORK/secrets
OUT=$WORK/out
mkdir -p "$OUT"
CHECK=("python3" "$AT_DIR/check_output.py" --secret "$MOCK_TOKEN" --secret wrong-token-9876543210)

start_mock
trap 'stop_mock; rm -rf "$WORK"' EXIT
write_configs "$SECRETS"
COUNTS=$(mock_counts)
log "mock counts: $COUNTS"

# run NAME PODMAN-RUN-ARGS...: podman run with the secrets mounted, stdout to $OUT/NAME.jsonl;
# fails on a non-zero exit (stderr is shown then).
run() {
  local name=$1 rc=0
  shift
  podman run --rm --network host -v "$SECRETS:/secrets:ro" "$@" </dev/null \
    >"$OUT/$name.jsonl" 2>"$OUT/$name.stderr" || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 20 "$OUT/$name.stderr" "$OUT/$name.jsonl" >&2
    die "$name: podman run exited with $rc"
  fi
}

VERSION=$(awk -F'"' '/^\[package\]/ { p = 1 } p && /^version *=/ { print $2; exit }' "$REPO/Cargo.toml")
REPOSITORY=$(awk '$1 == "dockerRepository:" { print $2; exit }' "$REPO/metadata.yaml")

log "image metadata ($IMAGE)"
podman image inspect --format '{{json .Config}}' "$IMAGE" >"$OUT/inspect.json"
"${CHECK[@]}" inspect "$OUT/inspect.json" "$VERSION" "$REPOSITORY"

log "spec"
run spec "$IMAGE" spec
"${CHECK[@]}" spec "$OUT/spec.jsonl"

log "check (good token, then a wrong one: FAILED and exit 0)"
run check "$IMAGE" check --config /secrets/config.json
"${CHECK[@]}" status "$OUT/check.jsonl" SUCCEEDED
run check-invalid "$IMAGE" check --config /secrets/wrong_token_config.json
"${CHECK[@]}" status "$OUT/check-invalid.jsonl" FAILED

log "discover"
run discover "$IMAGE" discover --config /secrets/config.json
STREAM_COUNT=$(wc -w <<<"$STREAMS")
"${CHECK[@]}" catalog "$OUT/discover.jsonl" "$STREAM_COUNT"

log "read, incremental where supported (docker run ... read --config ... --catalog ...)"
run read "$IMAGE" read --config /secrets/config.json --catalog /secrets/catalog.json
"${CHECK[@]}" records "$OUT/read.jsonl" --counts "$COUNTS" --streams "${STREAMS// /,}"

log "read as the platform launches it: sh -c 'eval \"\$AIRBYTE_ENTRYPOINT read ...\"', user 1000, workdir /source"
# The platform's wrapper (airbyte-platform ContainerCommandFactory) runs the connector in a
# background subshell with its output redirected to files and waits for it; this mirrors that.
# shellcheck disable=SC2016 # expanded by the container's sh
run platform --user 1000:1000 -v "$SECRETS:/source:ro" --workdir /source --entrypoint sh "$IMAGE" -c '
  (eval "$AIRBYTE_ENTRYPOINT read --config config.json --catalog catalog_full_refresh.json" \
     >/tmp/stdout 2>/tmp/stderr) &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  wait "$pid"; rc=$?
  [ -f /tmp/stdout ] && cat /tmp/stdout
  [ "$rc" -eq 0 ] || cat /tmp/stderr >&2
  exit "$rc"'
"${CHECK[@]}" records "$OUT/platform.jsonl" --counts "$COUNTS" --streams "${STREAMS// /,}"

log "read with a state in the future (integration_tests/abnormal_state.json): no incremental records"
run future "$IMAGE" read --config /secrets/config.json --catalog /secrets/catalog.json --state /secrets/future_state.json
"${CHECK[@]}" records "$OUT/future.jsonl" --zero "${INCREMENTAL_STREAMS// /,}" --streams "${FULL_REFRESH_STREAMS// /,}"

log "check with SSL_CERT_FILE pointing at the image's CA bundle"
run check-ssl -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "$IMAGE" check --config /secrets/config.json
"${CHECK[@]}" status "$OUT/check-ssl.jsonl" SUCCEEDED

echo "container smoke test OK ($IMAGE)"
