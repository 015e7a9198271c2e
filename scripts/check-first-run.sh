#!/usr/bin/env bash
# The README's first command as a new user runs it in a fresh clone, after `npm install`: `npm start` without
# DATABASE_URL builds, starts the embedded PostgreSQL, migrates and serves. Checked here: the API answers, SIGTERM sent
# to the npm process (what a terminal's Ctrl-C or a supervisor signals) reaches the server, which stops the embedded
# server and exits 0, and no PostgreSQL of this directory is left running.
# Usage: bash scripts/check-first-run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
node=$PWD/node_modules/.bin/node
data_dir=$(mktemp -d)/postgres
port=$("$node" -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
pg_port=$("$node" -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
log=$(mktemp)
npm_pid=
cleanup() {
  if [ -n "$npm_pid" ] && kill -0 "$npm_pid" 2>/dev/null; then kill -KILL -- "-$npm_pid" 2>/dev/null || true; fi
  rm -rf "$(dirname "$data_dir")" "$log"
}
trap cleanup EXIT

# Its own process group, so a failure here can take down everything it started.
env -u DATABASE_URL PORT=$port EMBEDDED_PG_PORT=$pg_port EMBEDDED_PG_DATA_DIR=$data_dir setsid npm start >"$log" 2>&1 &
npm_pid=$!
ready=
for _ in $(seq 1 600); do
  if curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$npm_pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ready" ]; then
  echo "npm start did not become ready" >&2
  cat "$log" >&2
  exit 1
fi
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/users")
[ "$status" = 200 ] || { echo "GET /api/v1/users answered $status" >&2; cat "$log" >&2; exit 1; }
echo "npm start: ready on the embedded PostgreSQL, GET /api/v1/users 200"

kill -TERM "$npm_pid"
code=0
for _ in $(seq 1 150); do
  kill -0 "$npm_pid" 2>/dev/null || break
  sleep 0.2
done
if kill -0 "$npm_pid" 2>/dev/null; then
  echo "npm start did not exit within 30 s of SIGTERM" >&2
  cat "$log" >&2
  exit 1
fi
wait "$npm_pid" || code=$?
[ "$code" = 0 ] || { echo "npm start exited with $code after SIGTERM" >&2; cat "$log" >&2; exit 1; }
if pgrep -f -- "-D $data_dir" >/dev/null || pgrep -f -- "$data_dir" >/dev/null; then
  echo "a PostgreSQL of $data_dir is still running after npm start exited" >&2
  exit 1
fi
npm_pid=
echo "npm start: SIGTERM to npm stopped the server and the embedded PostgreSQL, exit 0"
