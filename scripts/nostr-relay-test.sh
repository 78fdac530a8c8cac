#!/usr/bin/env bash
# Runs crier's Nostr end-to-end tests (tests/nostr_relay_e2e.rs) against real
# relays: `nostr-relay` 1.14 from PyPI (it checks every event's id and Schnorr
# signature, honours NIP-09 deletions and keeps the newest NIP-23 article),
# installed into a venv in ${XDG_CACHE_HOME:-~/.cache}/crier/nostr-relay-1.14.
# Two relays start on 127.0.0.1 with SQLite in a temp dir and 128 KiB events;
# the `is_recent` validator is left out so tests may date events as they like.
#
#   scripts/nostr-relay-test.sh              install if needed, start, test, stop
#   scripts/nostr-relay-test.sh --install    only install
#
# Needs python3 with venv and pip (PyPI reachable for the first install), and
# cargo. About 10 s once installed; when PyPI cannot be reached on a first run
# it prints "skipped" and exits 0.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${CRIER_NOSTR_RELAY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/crier/nostr-relay-1.14}
ports=(${CRIER_NOSTR_RELAY_PORTS:-6971 6972})

log() { printf '[nostr-relay-test %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

if [ ! -x "$venv/bin/nostr-relay" ]; then
  log "installing nostr-relay 1.14 into $venv"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'nostr-relay==1.14'; }; then
    log "nostr-relay could not be installed"
    echo "nostr-relay-test: skipped"
    exit 0
  fi
fi
[ "${1:-}" = "--install" ] && exit 0

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

urls=()
for port in "${ports[@]}"; do
  dir=$work/$port
  mkdir -p "$dir"
  cat > "$dir/config.yaml" <<YAML
DEBUG: false
relay_name: crier test relay $port
gunicorn:
  bind: 127.0.0.1:$port
  workers: 1
  loglevel: warning
storage:
  sqlalchemy.url: sqlite+aiosqlite:///$dir/nostr.sqlite3
  validators:
    - nostr_relay.validators.is_signed
    - nostr_relay.validators.is_not_too_large
max_event_size: 131072
verification:
  nip05_verification: disabled
YAML
  (cd "$dir" && exec "$venv/bin/nostr-relay" -c config.yaml serve) > "$dir/relay.log" 2>&1 &
  pids+=($!)
  urls+=("ws://127.0.0.1:$port")
done

for port in "${ports[@]}"; do
  for _ in $(seq 1 100); do
    if python3 - "$port" <<'PY' 2>/dev/null; then break; fi
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PY
    sleep 0.1
  done
done
log "relays up: ${urls[*]}"

cd "$root"
status=0
CRIER_NOSTR_E2E_RELAYS=$(IFS=,; echo "${urls[*]}") \
  cargo test --locked --test nostr_relay_e2e -- --ignored --test-threads 1 || status=$?
if [ "$status" != 0 ]; then
  for port in "${ports[@]}"; do log "relay $port log:"; tail -n 30 "$work/$port/relay.log" || true; done
fi
exit "$status"
