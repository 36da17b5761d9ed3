#!/usr/bin/env bash
# Other Node versions next to the machine's, for CI (.ci/run) and for trying Holdfast by hand.
#
#   scripts/node-lts.sh bin <major>     prints the bin folder of Node <major>, installed when missing
#                                       from the npm registry's `node` package (it ships the binary;
#                                       nothing is downloaded from elsewhere) under $HOLDFAST_NODE_HOME
#                                       (default ~/.cache/holdfast-node)
#   scripts/node-lts.sh headers <bin>   prints the folder of that Node's C headers (for npm_config_nodedir:
#                                       node-gyp must build native modules against them, not against the
#                                       machine's Node that npm's own configuration may name)
#   scripts/node-lts.sh sqlite <bin>    puts into node_modules the better-sqlite3 binary built for the
#                                       Node in <bin> (a native module is built per Node ABI), building
#                                       it once and keeping each ABI's build in node_modules/.cache
#   scripts/node-lts.sh start <bin>     `npm start` on that Node with a throwaway SQLite database, until
#                                       /healthz answers, then stops it (exit 1 if it never answers)
#
# Run from the repository root. `sqlite` swaps a file inside this checkout's node_modules: do not
# run the suite with another Node in the same checkout meanwhile.
set -euo pipefail

command=${1:?usage: scripts/node-lts.sh bin <major> | sqlite <bin> | start <bin>}
shift

node_bin() {
  local major=${1:?major version}
  local prefix="${HOLDFAST_NODE_HOME:-$HOME/.cache/holdfast-node}/node$major"
  local bin="$prefix/node_modules/node/bin"
  if ! [ -x "$bin/node" ]; then
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "node@$major" >&2
  fi
  echo "$bin"
}

# The headers node-gyp builds against: the registry's node-<platform>-<arch> package carries them
# (include/node). Empty for a Node that did not come from there (node-gyp then finds its own).
headers_of() {
  local dir
  for dir in "$1"/../node_modules/node-*-*; do
    if [ -f "$dir/include/node/node_api.h" ]; then
      (cd "$dir" && pwd)
      return 0
    fi
  done
  return 0
}

sqlite_for() {
  local bin=${1:?bin folder}
  local abi target cache nodedir
  abi=$("$bin/node" -p process.versions.modules)
  target=node_modules/better-sqlite3/build/Release/better_sqlite3.node
  cache="node_modules/.cache/holdfast-better-sqlite3/$abi/better_sqlite3.node"
  # Keep what is in place under its own ABI first, so switching back costs nothing.
  if [ -f "$target" ]; then
    local current
    current=$(node -e '
      try { require(process.argv[1]); console.log(process.versions.modules) } catch { console.log("") }' \
      "$PWD/$target" 2>/dev/null || true)
    if [ -n "$current" ] && ! [ -f "node_modules/.cache/holdfast-better-sqlite3/$current/better_sqlite3.node" ]; then
      mkdir -p "node_modules/.cache/holdfast-better-sqlite3/$current"
      cp "$target" "node_modules/.cache/holdfast-better-sqlite3/$current/better_sqlite3.node"
    fi
  fi
  if ! [ -f "$cache" ]; then
    nodedir=$(headers_of "$bin")
    echo "building better-sqlite3 for Node $("$bin/node" -v) (ABI $abi)…" >&2
    if [ -n "$nodedir" ]; then
      PATH="$bin:$PATH" npm_config_nodedir="$nodedir" npm rebuild better-sqlite3 --loglevel=error >&2
    else
      # A Node from elsewhere (Debian's): npm's own configuration names its headers (nodedir=/usr).
      PATH="$bin:$PATH" env -u npm_config_nodedir npm rebuild better-sqlite3 --loglevel=error >&2
    fi
    mkdir -p "$(dirname "$cache")"
    cp "$target" "$cache"
  fi
  cp "$cache" "$target"
}

start_probe() {
  local bin=${1:?bin folder}
  local dir port log pid
  dir=$(mktemp -d)
  port=$("$bin/node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  log="$dir/start.log"
  # In its own process group, so that stopping it stops npm, tsx and the server together.
  PATH="$bin:$PATH" PORT=$port DATABASE_URL="file:$dir/holdfast.db" setsid npm start >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      echo "npm start on Node $("$bin/node" -v): /healthz answered"
      kill -TERM -- "-$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      rm -rf "$dir"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "npm start on Node $("$bin/node" -v) did not answer /healthz:" >&2
  cat "$log" >&2
  kill -TERM -- "-$pid" 2>/dev/null || true
  return 1
}

case "$command" in
  bin) node_bin "$@" ;;
  headers) headers_of "${1:?bin folder}" ;;
  sqlite) sqlite_for "$@" ;;
  start) start_probe "$@" ;;
  *) echo "unknown command: $command" >&2; exit 2 ;;
esac
