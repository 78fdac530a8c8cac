#!/usr/bin/env bash
# Short run of every fuzz target in fuzz/ (not part of `cargo test` or
# .ci/run). Needs `cargo install cargo-fuzz`; works on the stable toolchain
# through RUSTC_BOOTSTRAP=1, without a sanitizer (crier forbids unsafe code).
#
#   scripts/fuzz-smoke.sh [SECONDS]     # default 15 per target
#
# Runs on a scratch copy of fuzz/corpus/<target> so the kept seed corpus
# stays small; crashes land in fuzz/artifacts/<target>/ and fail the script.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-15}
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz not found: cargo install cargo-fuzz" >&2; exit 2; }
export RUSTC_BOOTSTRAP=1
cd "$here/fuzz"
cargo fuzz build -s none
for target in parse_post markdown_split templates ledger; do
    work=$(mktemp -d)
    cp -r "corpus/$target/." "$work/"
    echo "== $target (${secs}s)"
    cargo fuzz run -s none "$target" "$work" -- -max_total_time="$secs" -max_len=4096 -print_final_stats=1 2>&1 \
        | grep -E '^(stat::number_of_executed_units|Done|==|SUMMARY|thread|.*panicked)' || true
    rm -rf "$work"
    if ls "artifacts/$target"/crash-* >/dev/null 2>&1; then
        echo "crash in $target: see fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
