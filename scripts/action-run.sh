#!/usr/bin/env bash
# The run step of the GitHub Action (action.yml): runs `crier ARGS` and sets the
# output `published`, a JSON list of {file, platform, url} for what this run
# published (always `[]` unless ARGS publish for real).
#
# Environment (set by action.yml):
#   CRIER_BIN   the crier executable (default: `crier` on PATH)
#   CRIER_ARGS  the command line, split at whitespace (no shell quoting, no globbing);
#               empty: run nothing (install only)
#   GITHUB_OUTPUT, RUNNER_TEMP
#
# Where `published` comes from: `crier publish` writes `published=[…]` to
# $GITHUB_OUTPUT itself; crier gets a file of its own here, and its line is
# taken as is. A crier that wrote none (an older one, or a run that stopped
# before its summary) is judged by `crier status --format json`: what is
# published after the run and was not before.
set -euo pipefail

crier=${CRIER_BIN:-crier}
set -f
# shellcheck disable=SC2206 # splitting at whitespace is the point
args=(${CRIER_ARGS:-})
set +f

published='[]'
emit() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
      echo "published<<CRIER_PUBLISHED_EOF"
      echo "$published"
      echo "CRIER_PUBLISHED_EOF"
    } >> "$GITHUB_OUTPUT"
  fi
}

if [ ${#args[@]} -eq 0 ]; then
  emit
  exit 0
fi

# `status` must look at the same repository: keep `-C DIR` and `--config FILE`
# (global options, allowed anywhere on the line). The subcommand is the first
# word that is neither an option nor an option's value.
globals=()
subcommand=
i=0
while [ $i -lt ${#args[@]} ]; do
  a=${args[$i]}
  case $a in
    -C | --config)
      globals+=("$a" "${args[$((i + 1))]:-}")
      i=$((i + 1))
      ;;
    -C?* | --config=*) globals+=("$a") ;;
    --color) i=$((i + 1)) ;;
    -*) ;;
    *) if [ -z "$subcommand" ]; then subcommand=$a; fi ;;
  esac
  i=$((i + 1))
done
publishing=false
if [ "$subcommand" = publish ]; then
  publishing=true
  for a in "${args[@]}"; do
    if [ "$a" = --dry-run ] || [ "$a" = --help ] || [ "$a" = -h ]; then publishing=false; fi
  done
fi

json_tool=
if command -v jq >/dev/null 2>&1; then
  json_tool=jq
elif command -v python3 >/dev/null 2>&1; then
  json_tool=python3
fi

tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/crier-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if $publishing; then
  "$crier" ${globals[@]+"${globals[@]}"} -q status --format json > "$tmp/before.json" 2>/dev/null || echo '{"posts":[]}' > "$tmp/before.json"
fi

# crier's own step outputs go to a file of ours, so `published` is set once.
real_output=${GITHUB_OUTPUT:-}
: > "$tmp/output"
code=0
GITHUB_OUTPUT="$tmp/output" "$crier" "${args[@]}" || code=$?
if [ -n "$real_output" ]; then grep -v '^published=' "$tmp/output" >> "$real_output" || true; fi

if $publishing; then
  own=$(sed -n 's/^published=//p' "$tmp/output" | tail -n 1)
  if [ -n "$own" ]; then
    published=$own
  else
    "$crier" ${globals[@]+"${globals[@]}"} -q status --format json > "$tmp/after.json" 2>/dev/null || echo '{"posts":[]}' > "$tmp/after.json"
    case $json_tool in
      jq)
        published=$(jq -c --slurpfile before "$tmp/before.json" '
          ($before[0].posts | map(select(.state == "published") | {file, platform, url})) as $old
          | [.posts[] | select(.state == "published" and .url != null) | {file, platform, url}
             | select(. as $k | any($old[]; . == $k) | not)]' "$tmp/after.json")
        ;;
      python3)
        published=$(python3 - "$tmp/before.json" "$tmp/after.json" <<'EOF'
import json, sys
before, after = (json.load(open(p))["posts"] for p in sys.argv[1:3])
old = {(p["file"], p["platform"], p.get("url")) for p in before if p["state"] == "published"}
new = [{"file": p["file"], "platform": p["platform"], "url": p["url"]}
       for p in after
       if p["state"] == "published" and p.get("url") and (p["file"], p["platform"], p["url"]) not in old]
print(json.dumps(new, separators=(",", ":")))
EOF
        )
        ;;
      *) echo "::warning title=crier::neither jq nor python3 is installed: the output \`published\` stays []" ;;
    esac
  fi
  echo "published: $published"
fi
emit
exit "$code"
