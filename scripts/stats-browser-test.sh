#!/usr/bin/env bash
# Headless-browser check of the `crier stats --html` page and `watch --serve`'s
# /stats (not part of `cargo test`: it needs Chromium, `apt-get install -y chromium`).
#
#   scripts/stats-browser-test.sh [OUT.png]
#
# Writes a two-week engagement history for three posts on two platforms, renders it
# with `crier stats --html` (no credentials: the page comes from the history),
# checks that `watch --serve` serves the same page at /stats, then lets headless
# Chromium lay the page out and reports, from a copy of the page with a probe
# script appended, how many SVG charts and lines it drew and their sizes; pages whose
# charts do not draw must fail that check. Loads the served /stats in Chromium too,
# and takes a screenshot of it. Exits non-zero on the first failed check.
set -euo pipefail
out=${1:-/tmp/crier-stats.png}
port=${CRIER_WATCH_PORT:-4518}
# shellcheck source=scripts/browser-test-setup.sh
source "$(dirname "$0")/browser-test-setup.sh"
mkdir -p .crier
printf -- '---\nplatforms: [bluesky]\n---\n\nA post.\n' > content/a.md
row() { printf '{"at":"%s","file":"%s","platform":"%s","id":"%s","metrics":%s}\n' "$@"; }
{
  row 2026-11-23T06:17:00Z content/a.md bluesky at://a '{"likes":2,"reposts":0,"replies":0}'
  row 2026-11-23T06:17:00Z content/b.md devto 11 '{"views":40,"likes":1,"replies":0}'
  row 2026-11-30T06:17:00Z content/a.md bluesky at://a '{"likes":9,"reposts":2,"replies":1}'
  row 2026-11-30T06:17:00Z content/b.md devto 11 '{"views":180,"likes":6,"replies":2}'
  row 2026-11-30T06:17:00Z content/c.md devto 12 '{"views":15,"likes":0,"replies":0}'
  row 2026-12-07T06:17:00Z content/b.md devto 11 '{"views":260,"likes":8,"replies":3}'
} > .crier/stats.jsonl

fail() { echo "FAIL: $*" >&2; exit 1; }
"$bin" -C "$tmp/repo" --color never stats --html "$tmp/stats.html" > /dev/null 2>&1 || fail "crier stats --html failed"
grep -q '<script' "$tmp/stats.html" && fail "the page has a script"
grep -Eq '(src|href)="https?:' "$tmp/stats.html" && fail "the page loads something from elsewhere"

"$bin" -C "$tmp/repo" --color never watch --serve "127.0.0.1:$port" > "$tmp/watch.log" 2>&1 &
pid=$!
# Up to 60 s: on a busy machine the server takes a while to answer its first request.
for _ in $(seq 600); do
  curl -fs "http://127.0.0.1:$port/stats" -o "$tmp/served.html" && break
  sleep 0.1
done
[ -s "$tmp/served.html" ] || fail "watch --serve did not answer /stats within 60 s: $(cat "$tmp/watch.log")"
cmp -s "$tmp/stats.html" "$tmp/served.html" || fail "/stats differs from the --html page"

# A copy with a probe: the browser's own layout of every chart and line.
probe='<script>
const charts=[...document.querySelectorAll("svg.chart")];
const lines=[...document.querySelectorAll("svg.chart polyline.series")];
const drawn=lines.filter(l=>l.getTotalLength()>0&&l.getBoundingClientRect().width>0);
const shown=charts.filter(c=>c.getBoundingClientRect().width>100&&c.getBoundingClientRect().height>100);
document.body.setAttribute("data-probe",`charts=${charts.length} shown=${shown.length} lines=${lines.length} drawn=${drawn.length}`);
</script>'
chrome=(chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --user-data-dir="$tmp/chrome" --window-size=1200,1400)
# What the browser drew of PAGE: the probe's line, empty when it did not run.
drew() {
  local page
  page=$(cat "$1")
  printf '%s%s</body></html>\n' "${page%</body></html>}" "$probe" > "$tmp/probe.html"
  "${chrome[@]}" --dump-dom "file://$tmp/probe.html" 2>/dev/null | grep -o 'data-probe="[^"]*"' || true
}
# 2 platform totals + 3 posts, 3 metrics each: 15 lines; c.md has one point only (a
# dot, no line), so 12 lines have a length.
expected='data-probe="charts=5 shown=5 lines=15 drawn=12"'
result=$(drew "$tmp/stats.html")
echo "chromium: $result"
[ "$result" = "$expected" ] || fail "charts not drawn as expected: $result"

# The check itself fails when the charts do not draw: lines without points, and charts
# a stylesheet hides, are both caught.
sed 's/ points="[^"]*"//g' "$tmp/stats.html" > "$tmp/no-lines.html"
sed 's|</style>|svg.chart{display:none}</style>|' "$tmp/stats.html" > "$tmp/hidden.html"
for broken in no-lines hidden; do
  result=$(drew "$tmp/$broken.html")
  [ -n "$result" ] && [ "$result" != "$expected" ] || fail "the probe did not notice a broken page ($broken): $result"
  echo "chromium, $broken (must differ): $result"
done
# The page as the watch server serves it: Chromium takes it as HTML and lays out every chart.
served=$("${chrome[@]}" --dump-dom "http://127.0.0.1:$port/stats" 2>/dev/null | grep -o '<svg class="chart"' | wc -l)
[ "$served" = 5 ] || fail "Chromium found $served charts on the served /stats page, not 5"
echo "chromium, served /stats: $served charts"
"${chrome[@]}" --screenshot="$out" "http://127.0.0.1:$port/stats" >/dev/null 2>&1 || fail "chromium failed"
[ -s "$out" ] || fail "no screenshot"
echo "ok: page self-contained, served at /stats, charts drawn; screenshot in $out"
