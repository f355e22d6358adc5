#!/usr/bin/env bash
# Builds the connector image offline: the runtime stage of the committed ../Dockerfile, with
#  - its `builder` stage replaced by a directory holding the host-built static (musl) binary and a
#    CA bundle (--build-context builder=DIR; DIR/out/ mirrors the builder stage's /out), and
#  - its runtime base image (busybox:*) replaced by a local image made from Debian's
#    busybox-static package (--build-context busybox:TAG=container-image://localhost/busybox-static).
# Docker Hub is not reachable here; a user with internet builds the same Dockerfile with
# `docker build -t airbyte/source-botmaker:dev .`.
# Prints the image size and fails above 15 MB. Idempotent; a warm re-run takes a few seconds.
#
# Usage: acceptance-tests/build-image.sh          (IMAGE=... to choose the tag)
. "$(dirname "$0")/lib.sh"

MAX_BYTES=15000000
# The tag is the recipe's version: bump it when build_standin changes, so machines rebuild it.
STANDIN=localhost/busybox-static:v2

ensure_podman
ensure_apt busybox-static ca-certificates
build_binaries

# 1. the `builder` stage's output, as a directory
BUILDER_DIR=$TARGET_DIR/oci-builder
mkdir -p "$BUILDER_DIR/out"
install -m 755 "$CONNECTOR_BIN" "$BUILDER_DIR/out/source-botmaker"
install -m 644 /etc/ssl/certs/ca-certificates.crt "$BUILDER_DIR/out/ca-certificates.crt"

# 2. the runtime base: what `FROM ... AS runtime` names in the Dockerfile
RUNTIME_FROM=$(awk 'toupper($1) == "FROM" && tolower($3) == "as" && $4 == "runtime" { print $2 }' "$REPO/Dockerfile")
[ -n "$RUNTIME_FROM" ] || die "no 'FROM <image> AS runtime' line in $REPO/Dockerfile"
case "$RUNTIME_FROM" in
  busybox:* | docker.io/library/busybox:*) ;;
  *) die "the runtime stage is FROM $RUNTIME_FROM; this script only has a stand-in for busybox images" ;;
esac

# A busybox image like the official one: every applet symlinked in /bin, /etc/passwd, /etc/group
# and /etc/shadow with root and nobody, a world-writable /tmp.
build_standin() {
  local root
  root=$(mktemp -d "${TMPDIR:-/tmp}/busybox-rootfs.XXXXXX")
  mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/home" "$root/tmp" "$root/var" "$root/usr/bin"
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'root:*::0:::::\nnobody:*::0:::::\n' >"$root/etc/shadow"
  chmod 640 "$root/etc/shadow"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
    podman import --quiet --change 'CMD ["sh"]' - "$STANDIN" >/dev/null
  rm -rf "$root"
}
if ! podman image exists "$STANDIN"; then
  log "creating $STANDIN from Debian's busybox-static ($(/bin/busybox | head -1 | cut -d' ' -f1-2))"
  build_standin
fi

# 3. only the runtime stage of the committed Dockerfile
previous=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
log "podman build --target runtime -t $IMAGE (builder stage <- $BUILDER_DIR, $RUNTIME_FROM <- $STANDIN)"
run_logged podman-build podman build --target runtime \
  --build-context "builder=$BUILDER_DIR" \
  --build-context "$RUNTIME_FROM=container-image://$STANDIN" \
  -t "$IMAGE" "$REPO"

# The image this tag pointed at before, if now untagged and unused, is removed.
current=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi

# 4. size
bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1000000 }')
echo "image $IMAGE: $mb MB ($bytes bytes; limit 15 MB)"
[ "$bytes" -le "$MAX_BYTES" ] || die "image $IMAGE is $mb MB, over the 15 MB limit"
