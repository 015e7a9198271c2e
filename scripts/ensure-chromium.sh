#!/usr/bin/env bash
# The Swagger UI test drives a real Chromium (test/docs-browser.e2e-spec.ts). Browsers are not an npm
# download here, so this installs Debian's package when it is missing. CI runs it (.ci/run); `npm test` does not
# install system packages, and skips that one test, loudly, without a browser. As root with apt-get it installs;
# otherwise it says what to do.
set -euo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the Swagger UI browser test…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
else
  echo "warning: $browser is missing: install Chromium (Debian: apt-get install chromium) or set CHROMIUM_PATH" >&2
fi
