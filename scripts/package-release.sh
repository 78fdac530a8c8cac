#!/usr/bin/env bash
# Packs one release binary the way the GitHub Action (scripts/action-install.sh)
# and `cargo binstall` expect it:
#
#   OUT_DIR/crier-VERSION-TARGET.tar.gz          (.zip for Windows targets)
#     crier-VERSION-TARGET/crier                 (crier.exe on Windows)
#     crier-VERSION-TARGET/README.md
#   OUT_DIR/crier-VERSION-TARGET.tar.gz.sha256   ("HASH  FILE", as sha256sum prints it)
#
# Usage: scripts/package-release.sh VERSION TARGET BINARY OUT_DIR
# Used by .github/workflows/release.yml and by the install-step tests.
set -euo pipefail

if [ $# -ne 4 ]; then
  echo "usage: $0 VERSION TARGET BINARY OUT_DIR" >&2
  exit 2
fi
version=${1#v}
target=$2
binary=$3
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$4"
out=$(cd "$4" && pwd)

name="crier-$version-$target"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
case $target in
  *windows*) exe=crier.exe ;;
  *) exe=crier ;;
esac
cp "$binary" "$stage/$name/$exe"
chmod 755 "$stage/$name/$exe"
cp "$root/README.md" "$stage/$name/"
for license in "$root"/LICENSE*; do
  if [ -f "$license" ]; then cp "$license" "$stage/$name/"; fi
done

case $target in
  *windows*)
    archive="$name.zip"
    rm -f "$out/$archive"
    if command -v 7z >/dev/null 2>&1; then
      (cd "$stage" && 7z a -tzip -bd "$out/$archive" "$name" >/dev/null)
    else
      (cd "$stage" && zip -qr "$out/$archive" "$name")
    fi
    ;;
  *)
    archive="$name.tar.gz"
    tar -C "$stage" -czf "$out/$archive" "$name"
    ;;
esac

if command -v sha256sum >/dev/null 2>&1; then
  (cd "$out" && sha256sum "$archive" > "$archive.sha256")
else
  (cd "$out" && shasum -a 256 "$archive" > "$archive.sha256")
fi
echo "$out/$archive"
