#!/usr/bin/env bash
# Builds the connector's pip wheel: `pip install <wheel>` puts `source-botmaker` on PATH, and
# PyAirbyte installs it with `get_source("source-botmaker", pip_url="<wheel>", ...)`.
#
#   bash scripts/build-wheel.sh         # -> target/wheels/airbyte_source_botmaker-<version>-py3-none-<tags>.whl
#
# 1. The static (musl) release binary, built exactly as for the Docker image
#    (acceptance-tests/lib.sh `build_binaries`: installs musl-tools and the rustup target if missing).
# 2. maturin (pinned below, installed from PyPI into target/wheel-tools/ unless MATURIN names one)
#    packs it, using pyproject.toml: cargo finds the binary up to date, so nothing is compiled twice.
#    The wheel is tagged manylinux2014 and musllinux_1_1: the binary is static, so it runs on any
#    x86_64 Linux, glibc or musl.
# 3. Checks that the wheel's version is Cargo.toml's and that its `source-botmaker` is byte for byte
#    the image's binary, then prints the wheel's path and size.
#
# Knobs: MATURIN (a maturin executable to use), WHEEL_DIR (default target/wheels; earlier
# airbyte_source_botmaker wheels in it are removed), and lib.sh's
# SKIP_CARGO_BUILD=1 (use the binaries already built), CARGO_TARGET_DIR, PYTHON.
. "$(dirname "$0")/../acceptance-tests/lib.sh"

MATURIN_VERSION=1.16.0
WHEEL_DIR=${WHEEL_DIR:-$TARGET_DIR/wheels}
# Platform tags: the lowest manylinux the Rust toolchain supports, and the lowest musllinux.
COMPATIBILITY=(manylinux2014 musllinux_1_1)
PACKAGE=airbyte_source_botmaker

VERSION=$(awk -F'"' '/^\[package\]/ { p = 1 } p && /^version *=/ { print $2; exit }' "$REPO/Cargo.toml")
[ -n "$VERSION" ] || die "no version in $REPO/Cargo.toml's [package]"

# ensure_maturin: sets MATURIN; installs the pinned maturin into its own small venv if needed.
ensure_maturin() {
  if [ -n "${MATURIN:-}" ]; then
    command -v "$MATURIN" >/dev/null || die "MATURIN=$MATURIN is not an executable"
    return 0
  fi
  local tools=$TARGET_DIR/wheel-tools
  MATURIN=$tools/bin/maturin
  if [ -x "$MATURIN" ] && "$MATURIN" --version 2>/dev/null | grep -qx "maturin $MATURIN_VERSION"; then
    return 0
  fi
  log "installing maturin $MATURIN_VERSION into $tools"
  rm -rf "$tools"
  run_logged wheel-tools-venv "${PYTHON:-python3}" -m venv "$tools"
  run_logged wheel-tools-pip "$tools/bin/python" -m pip install --disable-pip-version-check \
    "maturin==$MATURIN_VERSION"
}

build_binaries
ensure_maturin

mkdir -p "$WHEEL_DIR"
rm -f "$WHEEL_DIR/$PACKAGE"-*.whl
log "maturin build --target $MUSL_TARGET --compatibility ${COMPATIBILITY[*]} (pyproject.toml: bin bindings, release profile)"
# The same compiler setting as build_binaries, so cargo sees the binary as up to date.
(cd "$REPO" && export CC_x86_64_unknown_linux_musl=musl-gcc && run_logged maturin-build \
  "$MATURIN" build --release --locked --target "$MUSL_TARGET" \
  --compatibility "${COMPATIBILITY[@]}" --out "$WHEEL_DIR")
grep -E '^ *Finished|Built wheel' "$LOG_DIR/maturin-build.log" >&2 || true

shopt -s nullglob
wheels=("$WHEEL_DIR/$PACKAGE"-*.whl)
shopt -u nullglob
[ ${#wheels[@]} -eq 1 ] || die "expected one $PACKAGE wheel in $WHEEL_DIR, found ${#wheels[@]}"
WHEEL=${wheels[0]}

# The wheel must carry this version and exactly the binary the image ships.
if ! "${PYTHON:-python3}" - "$WHEEL" "$VERSION" "$CONNECTOR_BIN" <<'EOF'; then
import hashlib, sys, zipfile

wheel, version, binary = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    metadata = [n for n in names if n.endswith(".dist-info/METADATA")]
    lines = z.read(metadata[0]).decode().splitlines() if len(metadata) == 1 else []
    found = [l.split(":", 1)[1].strip() for l in lines if l.startswith("Version:")]
    if found != [version]:
        sys.exit(f"the wheel's version is {found}, Cargo.toml's is {version}")
    script = [n for n in names if n.endswith(".data/scripts/source-botmaker")]
    if len(script) != 1:
        sys.exit(f"the wheel has no (or more than one) scripts/source-botmaker: {names}")
    packed = hashlib.sha256(z.read(script[0])).hexdigest()
with open(binary, "rb") as f:
    built = hashlib.sha256(f.read()).hexdigest()
if packed != built:
    sys.exit(f"the wheel's source-botmaker (sha256 {packed}) differs from {binary} ({built})")
EOF
  rm -f "$WHEEL"
  die "the wheel $WHEEL is not what it should be (removed)"
fi

bytes=$(stat -c %s "$WHEEL")
echo "wheel $WHEEL: $(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1000000 }') MB ($bytes bytes;" \
  "the binary inside is $(awk -v b="$(stat -c %s "$CONNECTOR_BIN")" 'BEGIN { printf "%.2f", b / 1000000 }') MB)"
