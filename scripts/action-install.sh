#!/usr/bin/env bash
# The install step of the GitHub Action (action.yml): puts `crier` on PATH.
#
# A release version (`v0.1.0`, or a major tag such as `v0` that points at a
# release commit) is downloaded as the release archive for the runner's OS and
# architecture, checked against its published SHA-256 (a mismatch fails), and
# kept in the runner's tool cache ($RUNNER_TOOL_CACHE/crier/VERSION/ARCH), so a
# second use in the same job costs nothing. Any other ref (a branch, a commit),
# or a release without an archive for this runner, is built from source with
# `cargo install --locked --git` of the action's repository at that ref.
#
# Environment (set by action.yml; the defaults are GitHub's):
#   CRIER_VERSION            the `version` input; empty: the action's own ref
#   CRIER_ACTION_REF         ${{ github.action_ref }}
#   CRIER_ACTION_REPOSITORY  ${{ github.action_repository }}
#   CRIER_RELEASE_URL        default https://github.com/OWNER/REPO/releases/download
#   CRIER_GIT_URL            default https://github.com/OWNER/REPO
#   GITHUB_ACTION_PATH, RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP,
#   GITHUB_PATH, GITHUB_OUTPUT
# Outputs: `path` (the crier executable) and `version`.
set -euo pipefail

note() { echo "::notice title=crier::$*"; }
fail() {
  echo "::error title=crier::$*"
  exit 1
}
output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >> "$GITHUB_OUTPUT"; fi
}

action_path=${GITHUB_ACTION_PATH:-}
action_path=${action_path//\\//}
repo=${CRIER_ACTION_REPOSITORY:-}
action_ref=${CRIER_ACTION_REF:-}
# github.action_ref and github.action_repository are not always set inside
# composite actions (actions/runner#2473); the runner keeps the action in
# .../_actions/OWNER/REPO/REF, which says the same.
case $action_path in
  */_actions/*/*/*)
    rest=${action_path##*/_actions/}
    path_owner=${rest%%/*}
    rest=${rest#*/}
    path_repo=${rest%%/*}
    path_ref=${rest#*/}
    if [ -z "$repo" ]; then repo="$path_owner/$path_repo"; fi
    if [ -z "$action_ref" ]; then action_ref=$path_ref; fi
    ;;
esac
repo=${repo:-crier-dev/crier}
release_url=${CRIER_RELEASE_URL:-https://github.com/$repo/releases/download}
git_url=${CRIER_GIT_URL:-https://github.com/$repo}
ref=${CRIER_VERSION:-$action_ref}
ref=${ref#refs/tags/}
ref=${ref#refs/heads/}

# The version in the action's own Cargo.toml (what a major tag points at).
manifest_version() {
  if [ -f "$action_path/Cargo.toml" ]; then
    sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$action_path/Cargo.toml" | head -n 1
  fi
}

# Which release, if any, the ref names.
version=
case $ref in
  v[0-9]*.[0-9]*.[0-9]* | [0-9]*.[0-9]*.[0-9]*)
    version=${ref#v}
    ;;
  v[0-9]* | [0-9]*)
    # A major or minor tag (`v0`, `v0.1`) moved to the newest release commit:
    # the action's checkout at that tag says which release that is.
    if [ "$ref" = "$action_ref" ]; then
      candidate=$(manifest_version)
      case $candidate in
        "${ref#v}".*) version=$candidate ;;
      esac
    fi
    ;;
esac

runner_os=${RUNNER_OS:-$(uname -s)}
runner_arch=${RUNNER_ARCH:-$(uname -m)}
case $runner_arch in
  X64 | x86_64 | amd64) arch=x64 ;;
  ARM64 | arm64 | aarch64) arch=arm64 ;;
  *) arch=$(echo "$runner_arch" | tr '[:upper:]' '[:lower:]') ;;
esac
exe=crier
target=
case "$runner_os/$arch" in
  Linux/x64) target=x86_64-unknown-linux-musl ;;
  Linux/arm64) target=aarch64-unknown-linux-musl ;;
  macOS/x64 | Darwin/x64) target=x86_64-apple-darwin ;;
  macOS/arm64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  # Windows on Arm runs x64 programs.
  Windows/*) target=x86_64-pc-windows-msvc exe=crier.exe ;;
esac

tmp_root=${RUNNER_TEMP:-${TMPDIR:-/tmp}}

# --- build from source: no release for this ref ------------------------------
from_source() {
  local why=$1 root="$tmp_root/crier-from-source"
  local how=(--git "$git_url")
  if [ -z "$ref" ]; then
    if [ -f "$action_path/Cargo.toml" ]; then
      how=(--path "$action_path")
    fi
  elif [[ $ref =~ ^[0-9a-f]{40}$ ]]; then
    how+=(--rev "$ref")
  elif [[ $ref =~ ^v?[0-9] ]]; then
    how+=(--tag "$ref")
  else
    how+=(--branch "$ref")
  fi
  note "$why: building crier from source with \`cargo install --locked ${how[*]}\` (this takes minutes; a release tag such as $repo@v1.2.3 installs in seconds)"
  command -v cargo >/dev/null 2>&1 ||
    fail "cargo is not installed on this runner: add a Rust toolchain step (dtolnay/rust-toolchain) before crier, or use a release tag"
  cargo install --locked --root "$root" "${how[@]}"
  echo "$root/bin" >> "${GITHUB_PATH:-/dev/null}"
  output path "$root/bin/$exe"
  output version "${ref:-source}"
  "$root/bin/$exe" --version
}

if [ -z "$version" ]; then
  from_source "${ref:-this checkout} is not a release"
  exit 0
fi
if [ -z "$target" ]; then
  from_source "no release archive for $runner_os $runner_arch"
  exit 0
fi

# --- a release ---------------------------------------------------------------
cache_root=${RUNNER_TOOL_CACHE:-$tmp_root/tool-cache}
dir="$cache_root/crier/$version/$arch"
if [ -x "$dir/$exe" ] && [ -f "$dir.complete" ]; then
  echo "crier $version from the tool cache ($dir)"
else
  name="crier-$version-$target"
  case $target in
    *windows*) archive="$name.zip" ;;
    *) archive="$name.tar.gz" ;;
  esac
  url="$release_url/v$version/$archive"
  work=$(mktemp -d "$tmp_root/crier-install.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "downloading $url"
  # `curl -f` cannot tell "no such asset" from a network failure; the status can.
  status=$(curl -sSL --retry 3 --retry-connrefused -o "$work/$archive" -w '%{http_code}' "$url") || status=failed
  if [ "$status" = 404 ]; then
    rm -rf "$work"
    from_source "release v$version has no $archive"
    exit 0
  fi
  [ "$status" = 200 ] || fail "cannot download $url (HTTP status: $status)"
  status=$(curl -sSL --retry 3 --retry-connrefused -o "$work/$archive.sha256" -w '%{http_code}' "$url.sha256") || status=failed
  [ "$status" = 200 ] || fail "cannot download the checksum $url.sha256 (HTTP status: $status); refusing an unverified archive"

  expected=$(sed -n '1s/^\([0-9a-fA-F]\{64\}\).*/\1/p' "$work/$archive.sha256" | tr '[:upper:]' '[:lower:]')
  [ -n "$expected" ] || fail "$url.sha256 holds no SHA-256"
  if command -v sha256sum >/dev/null 2>&1; then
    actual=$(sha256sum "$work/$archive" | cut -d ' ' -f 1)
  else
    actual=$(shasum -a 256 "$work/$archive" | cut -d ' ' -f 1)
  fi
  actual=${actual#\\}
  if [ "$actual" != "$expected" ]; then
    fail "checksum mismatch for $archive: expected $expected, got $actual; not installing it"
  fi
  echo "sha256 $actual  $archive (verified)"

  case $archive in
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q "$work/$archive" -d "$work/x"
      else
        mkdir -p "$work/x" && (cd "$work/x" && 7z x -bd "$work/$archive" >/dev/null)
      fi
      ;;
    *) mkdir -p "$work/x" && tar -xzf "$work/$archive" -C "$work/x" ;;
  esac
  [ -f "$work/x/$name/$exe" ] || fail "$archive does not contain $name/$exe"
  rm -rf "$dir" "$dir.complete"
  mkdir -p "$dir"
  cp "$work/x/$name/$exe" "$dir/$exe"
  chmod 755 "$dir/$exe"
  touch "$dir.complete"
fi

echo "$dir" >> "${GITHUB_PATH:-/dev/null}"
output path "$dir/$exe"
output version "$version"
"$dir/$exe" --version
