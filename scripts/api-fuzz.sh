#!/usr/bin/env bash
# Runs schemathesis (from PyPI, a pinned version, in a venv of its own) against the
# OpenAPI document of a real `mocha-server` that this script starts in a temporary data
# folder with its development TLS: every operation gets generated requests, signed in as
# an ordinary user, and every answer must not be a 5xx, must match its documented schema,
# and must have a documented status code. Fails on any finding. Bounded: at most
# MAX_EXAMPLES cases per operation and MAX_SECONDS for the run. `scripts/test.sh` runs it.
#   scripts/api-fuzz.sh [BINARY_DIR]    (default target/debug)
set -euo pipefail
cd "$(dirname "$0")/.."

bin_dir=${1:-target/debug}
schemathesis_version=4.32.5
max_examples=${MAX_EXAMPLES:-15}
max_seconds=${MAX_SECONDS:-90}
venv=${SCHEMATHESIS_VENV:-target/schemathesis-venv}

if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version | grep -q "$schemathesis_version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

data=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT
# Every port from the OS. The rate limits are raised so that the generated requests test
# the API and not the limiter (which has tests of its own); 429 is still documented.
cat > "$data/mocha.toml" <<'TOML'
passport_port = 0
notification_port = 0
switchboard_port = 0
relay_port = 0
pbkdf2_iterations = 1000
sign_in_attempts_per_account = 100000
sign_in_attempts_per_address = 100000
TOML
MOCHA_LOG=warn "$bin_dir/mocha-server" --data-dir "$data" > "$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  grep -q "Press Ctrl-C" "$data/server.log" && break
  kill -0 "$server" 2>/dev/null || { cat "$data/server.log" >&2; echo "api-fuzz: the server did not start" >&2; exit 1; }
  sleep 0.2
done
port=$(sed -n 's/.*Passport and web pages *https:\/\/[^:]*:\([0-9]*\).*/\1/p' "$data/server.log")
[ -n "$port" ] || { cat "$data/server.log" >&2; echo "api-fuzz: no Passport address" >&2; exit 1; }
base="https://localhost:$port"
ca="$data/tls/ca.pem"

# An ordinary signed-in user, so the operations behind a session token are exercised.
curl -fsS --cacert "$ca" -H 'Content-Type: application/json' \
  -d '{"username":"fuzz@example.com","display_name":"Fuzz","password":"schemathesis-pw-1"}' \
  "$base/api/v1/accounts" >/dev/null
token=$(curl -fsS --cacert "$ca" -H 'Content-Type: application/json' \
  -d '{"username":"fuzz@example.com","password":"schemathesis-pw-1"}' \
  "$base/api/v1/sessions" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session_token"])')

status=0
"$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance \
  --max-examples "$max_examples" --max-time "$max_seconds" --seed 17 \
  --tls-verify "$ca" --request-timeout 10 --workers 2 \
  -H "Authorization: Bearer $token" \
  --report-dir target/schemathesis-report || status=$?
if [ "$status" != 0 ]; then
  echo "api-fuzz: schemathesis found problems (see above); the server's log:" >&2
  tail -n 50 "$data/server.log" >&2
  exit "$status"
fi
echo "api-fuzz: schemathesis $schemathesis_version found nothing"
