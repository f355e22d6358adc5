# Shared helpers of the packaging scripts in this directory. Source it from bash:
#   . "$(dirname "$0")/lib.sh"
# Everything works offline except apt (Debian mirror), rustup (rust-std for musl) and pip (PyPI).
#
# Environment knobs (all optional):
#   IMAGE             image tag to build/test (default airbyte/source-botmaker:dev)
#   CARGO_TARGET_DIR  cargo's target dir (default <repo>/target)
#   CONNECTOR_BIN     connector binary on the host (default: the musl release build)
#   MOCK_BIN          botmaker-mock binary (default: the `mock` profile build, target/mock/)
#   SKIP_CARGO_BUILD  1 = use the binaries as they are
#   PACKAGING_WORK    scratch + log dir (default <repo>/acceptance-tests/.work, gitignored)
#   PYTHON            interpreter for the venv (default python3)
#   MOCK_SCALE, MOCK_SEED, MOCK_SPAN_DAYS  data of the mock (defaults 200, 7, 30)

set -euo pipefail

AT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$AT_DIR/.." && pwd)
IMAGE=${IMAGE:-airbyte/source-botmaker:dev}
MUSL_TARGET=x86_64-unknown-linux-musl
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
CONNECTOR_BIN=${CONNECTOR_BIN:-$TARGET_DIR/$MUSL_TARGET/release/source-botmaker}
MOCK_BIN=${MOCK_BIN:-$TARGET_DIR/mock/botmaker-mock}
WORK_ROOT=${PACKAGING_WORK:-$AT_DIR/.work}
LOG_DIR=$WORK_ROOT/logs
VENV=$AT_DIR/.venv
MOCK_TOKEN=mock-token-0123456789
MOCK_SCALE=${MOCK_SCALE:-200}
MOCK_SEED=${MOCK_SEED:-7}
MOCK_SPAN_DAYS=${MOCK_SPAN_DAYS:-30}
# Every stream, the incremental ones and the full-refresh-only ones (space-separated).
# shellcheck disable=SC2034 # used by the scripts that source this file
{
  INCREMENTAL_STREAMS="chats messages sessions calls tickets agent_metrics agent_performance notification_results"
  INCREMENTAL_STREAMS+=" billed_conversations"
  FULL_REFRESH_STREAMS="contacts agents channels intents whatsapp_templates whatsapp_accounts campaigns roles"
  FULL_REFRESH_STREAMS+=" variables typifications ticket_field_definitions webhooks contacts_blacklist"
  STREAMS="$INCREMENTAL_STREAMS $FULL_REFRESH_STREAMS"
}
mkdir -p "$LOG_DIR"

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'FAILED: %s\n' "$*" >&2
  exit 1
}

# run_logged NAME CMD...: runs CMD with its output in $LOG_DIR/NAME.log; on failure shows the
# log's tail and returns CMD's status.
run_logged() {
  local name=$1 rc=0
  shift
  "$@" >"$LOG_DIR/$name.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf 'FAILED (exit %s): %s\n--- last 60 lines of %s ---\n' "$rc" "$*" "$LOG_DIR/$name.log" >&2
    tail -n 60 "$LOG_DIR/$name.log" >&2
    printf -- '--- end of %s ---\n' "$LOG_DIR/$name.log" >&2
  fi
  return "$rc"
}

# ensure_apt PKG...: installs the Debian packages that are missing (one apt-get update per run).
APT_UPDATED=${APT_UPDATED:-0}
ensure_apt() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" != 1 ]; then
    run_logged apt-update apt-get update
    APT_UPDATED=1
    export APT_UPDATED
  fi
  run_logged "apt-install" apt-get install -y --no-install-recommends "${missing[@]}"
}

# ensure_podman: podman + buildah + runc, and the containers.conf this VM needs (without
# `default_ulimits = []` every `podman run` fails with "error setting rlimit type 7").
ensure_podman() {
  ensure_apt podman buildah runc
  if ! grep -qs '^[[:space:]]*default_ulimits[[:space:]]*=[[:space:]]*\[\]' /etc/containers/containers.conf; then
    mkdir -p /etc/containers
    if [ -s /etc/containers/containers.conf ]; then
      die "/etc/containers/containers.conf exists without 'default_ulimits = []' under [containers]; add it"
    fi
    printf '[containers]\ndefault_ulimits = []\n' >/etc/containers/containers.conf
  fi
}

# Podman and an up-to-date image: (re)built from the current code (a few seconds when up to date),
# unless SKIP_IMAGE_BUILD=1 (packaging.sh, right after build-image.sh).
ensure_image() {
  ensure_podman
  if [ "${SKIP_IMAGE_BUILD:-0}" = 1 ]; then
    podman image exists "$IMAGE" || die "image $IMAGE does not exist; run acceptance-tests/build-image.sh"
  else
    "$AT_DIR/build-image.sh"
  fi
}

# build_binaries: the connector's static (musl) release build, the binary the image ships
# (PyAirbyte runs the same file on the host), and the mock's host build with the `mock` profile.
build_binaries() {
  if [ "${SKIP_CARGO_BUILD:-0}" = 1 ]; then
    if [ ! -x "$CONNECTOR_BIN" ] || [ ! -x "$MOCK_BIN" ]; then
      die "SKIP_CARGO_BUILD=1 but $CONNECTOR_BIN or $MOCK_BIN is missing"
    fi
    return 0
  fi
  ensure_apt musl-tools
  if ! rustup target list --installed 2>/dev/null | grep -qx "$MUSL_TARGET"; then
    log "rustup target add $MUSL_TARGET"
    run_logged rustup-target rustup target add "$MUSL_TARGET"
  fi
  # Two builds: the connector exactly as the Dockerfile builds it (on its own: one command for
  # both would unify their dependencies' features), the mock with its light profile
  # (Cargo.toml, `[profile.mock]`).
  log "cargo build --release --locked -p source-botmaker --target $MUSL_TARGET"
  (cd "$REPO" && export CC_x86_64_unknown_linux_musl=musl-gcc && run_logged cargo-build \
    cargo build --release --locked -p source-botmaker --target "$MUSL_TARGET")
  grep -E '^ *Finished' "$LOG_DIR/cargo-build.log" >&2 || true
  log "cargo build --profile mock --locked -p botmaker-mock"
  (cd "$REPO" && run_logged cargo-build-mock cargo build --profile mock --locked -p botmaker-mock)
  grep -E '^ *Finished' "$LOG_DIR/cargo-build-mock.log" >&2 || true
  ldd "$CONNECTOR_BIN" 2>&1 | grep -qE 'statically linked|not a dynamic executable' ||
    die "$CONNECTOR_BIN is not a static binary: $(ldd "$CONNECTOR_BIN" 2>&1 | head -3)"
}

# ensure_venv: the Python tools (airbyte-cdk standard tests + PyAirbyte) in $VENV, from
# requirements.txt with the versions pinned in constraints.txt. Skipped when up to date.
ensure_venv() {
  local py=${PYTHON:-python3} stamp want
  want="$("$py" -c 'import sys; print(sys.version)' | head -1) $(cat "$AT_DIR/requirements.txt" "$AT_DIR/constraints.txt" | sha256sum | cut -c1-16)"
  stamp=$VENV/.packaging-stamp
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "creating $VENV (pip install -r requirements.txt -c constraints.txt)"
  rm -rf "$VENV"
  run_logged venv "$py" -m venv "$VENV"
  run_logged pip-install "$VENV/bin/python" -m pip install --disable-pip-version-check \
    -r "$AT_DIR/requirements.txt" -c "$AT_DIR/constraints.txt"
  printf '%s\n' "$want" >"$stamp"
}

# start_mock [EXTRA ARGS...]: starts botmaker-mock on an ephemeral loopback port, without rate
# limits; sets MOCK_URL, MOCK_PORT and MOCK_PID and stops the mock when the script exits.
start_mock() {
  local dir
  ensure_apt curl
  dir=$(mktemp -d "${TMPDIR:-/tmp}/botmaker-mock.XXXXXX")
  # The data ends an hour ago: a sync reads up to two minutes before it starts, so records newer
  # than that would (rightly) wait for the next sync and make the counts differ by chance.
  "$MOCK_BIN" --port 0 --scale "$MOCK_SCALE" --seed "$MOCK_SEED" --span-days "$MOCK_SPAN_DAYS" \
    --anchor "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
    --token "$MOCK_TOKEN" --no-rate-limits --url-file "$dir/url" "$@" \
    >"$LOG_DIR/mock.stdout" 2>"$LOG_DIR/mock.stderr" &
  MOCK_PID=$!
  trap stop_mock EXIT
  local _
  for _ in $(seq 100); do
    [ -s "$dir/url" ] && break
    kill -0 "$MOCK_PID" 2>/dev/null || { cat "$LOG_DIR/mock.stderr" >&2; die "botmaker-mock exited"; }
    sleep 0.1
  done
  [ -s "$dir/url" ] || die "botmaker-mock did not start within 10 s"
  MOCK_URL=$(head -1 "$dir/url")
  rm -rf "$dir"
  MOCK_PORT=$(printf '%s' "$MOCK_URL" | sed -E 's#^http://127\.0\.0\.1:([0-9]+)/.*#\1#')
  case "$MOCK_PORT" in '' | *[!0-9]*) die "unexpected mock URL: $MOCK_URL" ;; esac
  log "botmaker-mock (pid $MOCK_PID) at $MOCK_URL, scale $MOCK_SCALE"
}

stop_mock() {
  if [ -n "${MOCK_PID:-}" ]; then
    kill "$MOCK_PID" 2>/dev/null || true
    wait "$MOCK_PID" 2>/dev/null || true
    MOCK_PID=
  fi
}

# mock_counts: the mock's {stream: records a full long-term-search read returns}.
mock_counts() {
  curl -sSf --max-time 10 "http://127.0.0.1:$MOCK_PORT/_mock/counts"
}

# write_configs DIR: config.json (the mock's token, start date before the mock's data, long-term
# search on, so a read returns every record, and the billed dashboards on, since the sample catalogs
# select them), wrong_token_config.json (a wrong token) and the sample catalogs, readable by the
# image's non-root user.
write_configs() {
  local dir=$1 start
  mkdir -p "$dir"
  start=$(date -u -d "-$((MOCK_SPAN_DAYS + 1)) days" +%F)
  cat >"$dir/config.json" <<EOF
{"access_token": "$MOCK_TOKEN", "start_date": "$start", "api_url": "$MOCK_URL", "long_term_search": true, "include_bi_dashboards": true}
EOF
  cat >"$dir/wrong_token_config.json" <<EOF
{"access_token": "wrong-token-9876543210", "start_date": "$start", "api_url": "$MOCK_URL", "long_term_search": true, "include_bi_dashboards": true}
EOF
  cp "$REPO/catalog/configured_catalog.json" "$dir/catalog.json"
  cp "$REPO/catalog/configured_catalog_full_refresh.json" "$dir/catalog_full_refresh.json"
  cp "$AT_DIR/integration_tests/abnormal_state.json" "$dir/future_state.json"
  chmod 755 "$dir"
  chmod 644 "$dir"/*.json
}

# timed LABEL CMD...: runs CMD and reports its wall time.
timed() {
  local label=$1 start ms rc=0
  shift
  start=$(date +%s%N)
  "$@" || rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  printf '    %-44s %4d.%d s%s\n' "$label" $((ms / 1000)) $((ms % 1000 / 100)) \
    "$([ $rc -eq 0 ] || echo "  (FAILED, exit $rc)")" >&2
  return $rc
}
