#!/usr/bin/env bash
# Several instances behind a load balancer (test/scale-out): Debian's HAProxy, installed here when missing, in front
# of app processes on one database (embedded, or DATABASE_URL as an admin connection) and the machine's Redis
# (TEST_REDIS_URL, default redis://127.0.0.1:6379) for the shared rate-limit counts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-haproxy.sh
TEST_PROJECT=scale-out exec node_modules/.bin/jest "$@"
