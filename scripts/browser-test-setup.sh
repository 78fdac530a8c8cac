# Sourced by the headless-browser checks (scripts/*-browser-test.sh): stops unless
# Chromium is there, builds crier (`$bin`), and makes an empty git repository
# `$tmp/repo` (with `content/`) the working directory. On exit the temporary
# directory is removed and the server the check started (`$pid`) is stopped.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v chromium >/dev/null || { echo "chromium not found: apt-get install -y chromium" >&2; exit 2; }

cargo build --quiet --manifest-path "$here/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$here/target}/debug/crier"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

mkdir -p "$tmp/repo/content"
cd "$tmp/repo"
git init -q .
