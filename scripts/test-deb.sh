#!/usr/bin/env bash
# Builds the server's Debian package from BINARY_DIR (default target/debug, which the
# test run has just built), installs it with dpkg, checks what it installed, starts the
# server as the package's `mocha` user (with systemd if it runs, else directly), asks
# /api/v1/status, installs it again over itself (an upgrade: data and edited settings
# kept), then removes the package (data kept) and purges it (data gone).
# Needs root; says so and stops without it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "test-deb: needs root (dpkg -i); not run" >&2
  exit 0
fi
bin_dir=${1:-target/debug}
package=$(bash scripts/build-deb.sh "$bin_dir" target/deb)
fail() { echo "test-deb: FAILED: $*" >&2; exit 1; }

dpkg -i "$package" >/dev/null
[ -x /usr/bin/mocha-server ] && [ -x /usr/bin/mocha ] || fail "binaries not installed"
getent passwd mocha >/dev/null || fail "no mocha user"
[ "$(stat -c '%U %a' /var/lib/mocha)" = "mocha 700" ] || fail "/var/lib/mocha is not mocha's, 0700"
[ -L /var/lib/mocha/mocha.toml ] || fail "settings not linked into the data folder"
grep -q '^NoNewPrivileges=yes' /lib/systemd/system/mocha-server.service || fail "unit not hardened"

port=18443
if [ -d /run/systemd/system ]; then
  printf 'passport_port = %s\n' "$port" >> /etc/mocha/mocha.toml
  systemctl restart mocha-server.service
else
  MOCHA_PASSPORT_PORT=$port MOCHA_NOTIFICATION_PORT=18631 MOCHA_SWITCHBOARD_PORT=18641 MOCHA_RELAY_PORT=18651 \
    runuser -u mocha -- /usr/bin/mocha-server --data-dir /var/lib/mocha run > target/deb/server.log 2>&1 &
  server=$!
fi
status=""
for _ in $(seq 1 100); do
  if [ -f /var/lib/mocha/tls/ca.pem ] &&
     status=$(curl -fsS --cacert /var/lib/mocha/tls/ca.pem "https://localhost:$port/api/v1/status" 2>/dev/null); then
    break
  fi
  sleep 0.2
done
echo "$status" | grep -q '"passport"' || { cat target/deb/server.log >&2 || true; fail "no answer from /api/v1/status"; }
[ "$(stat -c %U /var/lib/mocha/mocha.db)" = mocha ] || fail "the database is not the mocha user's"
if [ -n "${server:-}" ]; then kill "$server"; wait "$server" || true; fi

# An upgrade (installing the package again over itself) keeps the data and the settings.
echo "# edited by the operator" >> /etc/mocha/mocha.toml
dpkg -i --force-confold "$package" >/dev/null
[ -f /var/lib/mocha/mocha.db ] || fail "the upgrade lost the data"
grep -q "edited by the operator" /etc/mocha/mocha.toml || fail "the upgrade replaced the edited settings"

dpkg -r mocha-server >/dev/null
[ -f /var/lib/mocha/mocha.db ] || fail "remove deleted the data"
[ ! -e /usr/bin/mocha-server ] || fail "remove left the program"
dpkg -P mocha-server >/dev/null
[ ! -e /var/lib/mocha ] || fail "purge kept the data"
! getent passwd mocha >/dev/null || fail "purge kept the user"
echo "test-deb: $package installed, answered /api/v1/status, removed (data kept) and purged (data gone)"
