#!/usr/bin/env bash
# OPTIONAL, not run by CI (about 5 min and 2 GB of disk): builds the WHOLE ../Dockerfile, builder
# stage included, as `docker build .` does for a user with internet, to check that the builder
# stage still compiles the connector (e.g. after adding a workspace member or a build script).
#
# Docker Hub is unreachable here, so the two base images are stand-ins:
#  - rust:1.95-slim-bookworm: Debian bookworm (mmdebstrap, from the apt mirror) with gcc,
#    libc6-dev, ca-certificates and this machine's rustup stable toolchain (incl. the musl std,
#    so the Dockerfile's `rustup target add` finds it installed);
#  - busybox:TAG: the busybox-static image of build-image.sh.
# The builder stage itself runs as written: apt-get install musl-tools, cargo build --locked
# (crates.io). The host CA bundle is mounted into the build (TLS-intercepting egress proxy).
# Then `spec` runs in the result. The stand-in rust image and the build cache are removed at the end.
#
# Usage: acceptance-tests/full-dockerfile-build.sh
. "$(dirname "$0")/lib.sh"

ensure_podman
ensure_apt mmdebstrap busybox-static
TOOLCHAIN=${RUSTUP_HOME:-$HOME/.rustup}/toolchains/stable-x86_64-unknown-linux-gnu
[ -d "$TOOLCHAIN/lib/rustlib/$MUSL_TARGET" ] || run_logged rustup-target rustup target add "$MUSL_TARGET"
RUST_FROM=$(awk 'toupper($1) == "FROM" && tolower($3) == "as" && $4 == "builder" { print $2 }' "$REPO/Dockerfile")
RUNTIME_FROM=$(awk 'toupper($1) == "FROM" && tolower($3) == "as" && $4 == "runtime" { print $2 }' "$REPO/Dockerfile")
[ "$RUST_FROM" = rust:1.95-slim-bookworm ] || die "the builder stage is FROM $RUST_FROM; update this script's stand-in"
FAKE_RUST=docker.io/library/$RUST_FROM
TAG=localhost/source-botmaker:full-dockerfile-build

# The runtime base stand-in (build-image.sh makes it; reuse its recipe).
podman image exists localhost/busybox-static:v2 || SKIP_CARGO_BUILD=0 "$AT_DIR/build-image.sh"

HOOK=$(mktemp "${TMPDIR:-/tmp}/rust-hook.XXXXXX")
cat >"$HOOK" <<EOF
#!/bin/sh
set -e
mkdir -p "\$1/usr/local/rustup/toolchains" "\$1/usr/local/cargo/bin"
printf 'version = "12"\ndefault_toolchain = "stable-x86_64-unknown-linux-gnu"\nprofile = "minimal"\n' >"\$1/usr/local/rustup/settings.toml"
tar -C "$(dirname "$TOOLCHAIN")" --exclude=./stable-x86_64-unknown-linux-gnu/share/doc \
  --exclude=./stable-x86_64-unknown-linux-gnu/lib/rustlib/src -c ./stable-x86_64-unknown-linux-gnu |
  tar -C "\$1/usr/local/rustup/toolchains" -x
cp -a "$(dirname "$(command -v rustup)")/." "\$1/usr/local/cargo/bin/"
EOF
chmod +x "$HOOK"
cleanup() {
  rm -f "$HOOK"
  podman rmi -f "$FAKE_RUST" "$TAG" >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "creating the stand-in $FAKE_RUST (mmdebstrap bookworm + host toolchain; log in $LOG_DIR/mmdebstrap.log)"
mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include=ca-certificates,gcc,libc6-dev \
  --aptopt='Acquire::Languages "none"' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --customize-hook="$HOOK \"\$1\"" \
  bookworm - "deb http://deb.debian.org/debian bookworm main" \
  "deb http://deb.debian.org/debian bookworm-updates main" \
  "deb http://deb.debian.org/debian-security bookworm-security main" 2>"$LOG_DIR/mmdebstrap.log" |
  podman import --quiet \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' --change 'ENV CARGO_HOME=/usr/local/cargo' \
    - "$FAKE_RUST" >/dev/null

log "podman build (both stages) -t $TAG (log in $LOG_DIR/full-dockerfile-build.log)"
run_logged full-dockerfile-build podman build --layers=false \
  -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
  --build-context "$RUNTIME_FROM=container-image://localhost/busybox-static:v2" \
  -t "$TAG" "$REPO"
grep -E '^ *Finished' "$LOG_DIR/full-dockerfile-build.log" || true
podman run --rm "$TAG" spec </dev/null | grep -q '"type":"SPEC"' || die "spec failed in $TAG"
echo "full Dockerfile build OK: $(podman image inspect --format '{{.Size}}' "$TAG" | awk '{ printf "%.2f MB", $1 / 1000000 }')"
