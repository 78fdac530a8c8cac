#!/usr/bin/env bash
# Headless-browser check of `crier watch --serve` (not part of `cargo test`:
# it needs Chromium, `apt-get install -y chromium`).
#
#   scripts/watch-browser-test.sh [OUT.png]
#
# Builds crier, starts `crier watch --serve` on a generated repository (a
# Threads chain with an image, a dev.to article with raw HTML that must show
# as text, a post with an error), checks the page, the media route and the
# live-reload stream with curl, then takes a screenshot with headless
# Chromium. Look at the screenshot. Exits non-zero on the first failed check.
set -euo pipefail
out=${1:-/tmp/crier-watch.png}
port=${CRIER_WATCH_PORT:-4517}
# shellcheck source=scripts/browser-test-setup.sh
source "$(dirname "$0")/browser-test-setup.sh"
mkdir -p media
# A 3x2 red PNG.
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x03\x00\x00\x00\x02\x08\x02\x00\x00\x00\x12\x16\xf1M\x00\x00\x00\x12IDATx\x9cc\xf8\xcf\xc0\x00\xc4\x0c\x0c\xff\x01\x00\x1e\xf3\x03\xfd\xa7)\x8a\x1f\x00\x00\x00\x00IEND\xaeB`\x82' > media/red.png
cat > content/chain.md <<'MD'
---
platforms: [threads]
media:
  - path: media/red.png
    alt: A red square
---

Posts belong in git & <b>this</b> is not bold.

---

Second part of the chain.
MD
cat > content/article.md <<'MD'
---
title: Why posts belong in git
platforms: [devto]
tags: [git, opensource]
---

An **article** with `code` and <script>document.title='pwned'</script> raw HTML.
MD
printf -- '---\nplatforms: [threads]\n---\n\n%s\n' "$(head -c 520 /dev/zero | tr '\0' a)" > content/long.md
git add -A

"$bin" -C "$tmp/repo" --color never watch --debounce 50 --serve "127.0.0.1:$port" > "$tmp/watch.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/" -o "$tmp/page.html" && grep -q 'content/long.md' "$tmp/page.html" && break
  sleep 0.1
done

fail() { echo "FAIL: $*" >&2; cat "$tmp/watch.log" >&2; exit 1; }
grep -q 'this&lt;/b&gt; is not bold\|&lt;b&gt;this&lt;/b&gt;' "$tmp/page.html" || fail "post text not escaped"
grep -q '<script>document' "$tmp/page.html" && fail "raw HTML from a post reached the page"
grep -q 'threads-text-too-long' "$tmp/page.html" || fail "diagnostic missing"
grep -q '520/500' "$tmp/page.html" || fail "byte counter missing"
grep -q '<strong>article</strong>' "$tmp/page.html" || fail "dev.to article not rendered"
curl -fs "http://127.0.0.1:$port/media/media/red.png" -o /dev/null || fail "referenced media not served"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/media/content/chain.md")
[ "$code" = 404 ] || fail "an unreferenced file was served ($code)"

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$tmp/chrome" --window-size=1200,1000 \
  --screenshot="$out" "http://127.0.0.1:$port/" >/dev/null 2>&1 || fail "chromium failed"
[ -s "$out" ] || fail "no screenshot"

# Live reload: an edit produces an event on /events.
(curl -sN --max-time 5 "http://127.0.0.1:$port/events" > "$tmp/events.txt" || true) &
sleep 0.5
printf -- '---\nplatforms: [threads]\n---\n\nShort now.\n' > content/long.md
for _ in $(seq 40); do grep -q '^data:' "$tmp/events.txt" && break; sleep 0.1; done
grep -q '^data:' "$tmp/events.txt" || fail "no server-sent event after an edit"
curl -fs "http://127.0.0.1:$port/" | grep -q '10/500' || fail "page not updated after an edit"

echo "ok: page, media, escaping and live reload checked; screenshot in $out"
