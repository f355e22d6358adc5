#!/usr/bin/env bash
# Re-creates vendor/reqwest: reqwest VERSION from crates.io plus vendor/reqwest-http1-max-buf-size.patch.
# Usage: scripts/vendor-reqwest.sh [VERSION]   (default: the version vendored now)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/vendor/reqwest/Cargo.toml" | head -n1)}"
patch_file="$root/vendor/reqwest-http1-max-buf-size.patch"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "downloading reqwest $version from crates.io" >&2
curl -fsSL "https://static.crates.io/crates/reqwest/reqwest-$version.crate" -o "$work/reqwest.crate"
tar xzf "$work/reqwest.crate" -C "$work"
(cd "$work/reqwest-$version" && patch -p1 --forward --no-backup-if-mismatch <"$patch_file")
rm -rf "$root/vendor/reqwest"
mv "$work/reqwest-$version" "$root/vendor/reqwest"
echo "vendor/reqwest is now reqwest $version with the patch; run 'cargo update -p reqwest' if the version changed" >&2
