#!/usr/bin/env bash
# The e2e suite through PgBouncer in transaction pooling mode (Debian's package, installed here when missing):
# the apps under test connect to PgBouncer (DATABASE_POOLER=transaction), while the harness makes and migrates the
# databases on the direct connection (DATABASE_MIGRATION_URL), as a deployment runs its migrations. Afterwards
# PgBouncer's own counters must show the suite's transactions went through it.
# DATABASE_URL: the PostgreSQL server behind PgBouncer (default: the machine's, 127.0.0.1:5432, trust).
set -euo pipefail
cd "$(dirname "$0")/.."
direct="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
port="${PGBOUNCER_PORT:-6432}"

# PgBouncer, and psql to ask it (a wrapper without a client behind it does not count).
if { ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; } || ! psql --version >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's pgbouncer and postgresql-client…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer postgresql-client >/dev/null
  else
    echo "pgbouncer or psql is missing: install them (Debian: apt-get install pgbouncer postgresql-client)" >&2
    exit 1
  fi
fi
# The package runs a service of its own on 6432; this run wants its own configuration on that port.
systemctl stop pgbouncer >/dev/null 2>&1 || service pgbouncer stop >/dev/null 2>&1 || true
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

# host, port and user of the server, from the URL.
read -r host server_port user < <(node -e 'const u = new URL(process.argv[1]); console.log(u.hostname, u.port || 5432, decodeURIComponent(u.username) || "postgres")' "$direct")

dir=$(mktemp -d)
cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=$host port=$server_port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = $user
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
echo "\"$user\" \"\"" > "$dir/userlist.txt"
# PgBouncer will not run as root.
if [ "$(id -u)" = 0 ]; then
  chown -R postgres "$dir"
  su postgres -s /bin/sh -c "$PGBOUNCER -d $dir/pgbouncer.ini"
else
  "$PGBOUNCER" -d "$dir/pgbouncer.ini"
fi
stop() {
  kill "$(cat "$dir/pgbouncer.pid" 2>/dev/null)" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT
# pgbouncer -d returns before it has bound its port: ask this one, by its admin console, whether it is up.
version=""
for _ in $(seq 1 50); do
  version=$(psql -h 127.0.0.1 -p "$port" -U "$user" -d pgbouncer -Atc 'SHOW VERSION' 2>/dev/null) && [ -n "$version" ] && break
  sleep 0.1
done
if [ -z "$version" ] || [ ! -s "$dir/pgbouncer.pid" ]; then
  echo "PgBouncer did not start on 127.0.0.1:$port:" >&2
  cat "$dir/pgbouncer.log" >&2 || true
  exit 1
fi
echo "== $version on 127.0.0.1:$port, transaction pooling, in front of $host:$server_port"

pooled=$(node -e 'const u = new URL(process.argv[1]); u.hostname = "127.0.0.1"; u.port = process.argv[2]; console.log(u.href)' "$direct" "$port")
DATABASE_URL="$pooled" DATABASE_MIGRATION_URL="$direct" npm run test:e2e -- "$@"

# SHOW STATS: one row per database; the suite's worker databases must have had their transactions pooled here. The
# column is found by name (later PgBouncers add columns).
transactions=$(psql -h 127.0.0.1 -p "$port" -U "$user" -d pgbouncer -A -F'|' -c 'SHOW STATS' |
  awk -F'|' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "total_xact_count") col = i; next } $1 ~ /^nsvc_test_/ { sum += $col } END { print sum + 0 }')
echo "== transactions pooled by PgBouncer for the test databases: $transactions"
# The whole suite makes tens of thousands; a run of a few files (arguments) needs only to have made some.
minimum=1000
[ "$#" -gt 0 ] && minimum=1
if [ "$transactions" -lt "$minimum" ]; then
  echo "PgBouncer pooled only $transactions transactions: the suite did not run through it" >&2
  exit 1
fi
