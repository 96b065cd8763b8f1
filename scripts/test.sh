#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the Debian packages the tests
# need (as root, or through sudo), then runs the tests. `.ci/run` is this script.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo)

if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  # gcc builds ring and the bundled SQLite; ca-certificates is the system trust store the client reads;
  # libasound2-dev (found through pkg-config) is the ALSA library cpal builds against for the messenger's sounds.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends gcc libc6-dev pkg-config ca-certificates libasound2-dev >/dev/null
  # g++ compiles OpenH264's bundled C++ source (mocha-media's video codec) and nasm its SIMD kernels (without
  # it the build silently falls back to slower plain C); libclang-dev is what bindgen needs for the V4L2
  # bindings of mocha-media's `camera` feature.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends g++ nasm libclang-dev >/dev/null
  # mocha-media builds libopus from the source bundled in opusic-sys, with CMake.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends cmake make >/dev/null
  # The full-disk test (crates/server/tests/storage_full.rs) mounts a small tmpfs with mount/umount
  # (as root; it skips, saying why, where mounting is not allowed).
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends mount >/dev/null
  # The data-folder test checks the generated certificate with `openssl verify -x509_strict`, and the TLS
  # scan (crates/server/tests/tls_ports.rs) offers old versions and CBC suites with `openssl s_client`.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends openssl >/dev/null
  # The messenger's notification tests start a private D-Bus session bus.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends dbus-daemon >/dev/null
  # The website tests drive a real headless Chromium through chromedriver; the fonts draw their screenshots.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
  # The Debian package test (scripts/test-deb.sh) installs the package (which needs adduser)
  # and asks the installed server for its status with curl.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends adduser curl >/dev/null
  # Passport's tests run on PostgreSQL too (each test creates a database of its own, and the
  # outage test runs a private server with initdb/pg_ctl): the server, and pg_dump for the
  # "no password is stored" checks.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends postgresql postgresql-client >/dev/null
  # The cluster tests (crates/server/tests/cluster.rs) run their nodes on a NATS server with JetStream.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends nats-server >/dev/null
  # The cluster failure tests (cluster_failures.rs) put a real HAProxy in front of two nodes.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends haproxy >/dev/null
  # The API fuzzing (scripts/api-fuzz.sh) installs schemathesis from PyPI into a venv.
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
else
  echo "no apt-get here: install the packages named in $0 with your system's package manager" >&2
fi

# PostgreSQL at 127.0.0.1:5432 (trust authentication for `postgres`) must be running: start
# the machine's cluster if it is stopped, and wait until it takes connections. With CI set,
# a PostgreSQL test that cannot reach it fails instead of skipping.
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  pg_version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  # "already running" is fine; anything else shows in pg_isready's verdict below.
  "${as_root[@]}" pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start 2>/dev/null || true
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi

# NATS with JetStream at 127.0.0.1:4222, for the cluster tests (each uses a subject prefix and a
# directory bucket of its own): start it if it is not running, and wait until the port answers.
# With CI set, a NATS test that cannot connect fails instead of skipping.
if [ -x /usr/sbin/nats-server ]; then
  "${as_root[@]}" mkdir -p /var/lib/nats-server
  "${as_root[@]}" start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 30); do
    (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && break
    sleep 1
  done
  (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null || { echo "NATS did not start on 127.0.0.1:4222" >&2; exit 1; }
fi

# A cold build in one pass: incremental caches only help rebuilds (and took 2.4 GB).
export CARGO_INCREMENTAL=0
# The build and its ~75 test binaries need several GB: say so before a full disk shows up
# as a linker killed by SIGBUS twenty minutes in.
free_kib="$(df -Pk . | awk 'NR == 2 {print $4}')"
if [ "${free_kib:-0}" -lt $((12 * 1024 * 1024)) ]; then
  echo "warning: only $((free_kib / 1024)) MiB free here; the test build needs about 8 GiB" >&2
fi
cargo test --workspace --locked
# The camera source (nokhwa, Video4Linux) is behind a feature: build and test the media crate with it on.
cargo test -p mocha-media --features camera --locked
# Every fuzz target for a short bounded time (FUZZ_SECONDS each; docs/fuzzing.md has the
# long runs), on the nightly toolchain.
bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
# schemathesis against the OpenAPI document of the server just built (bounded, see the script).
bash scripts/api-fuzz.sh target/debug
# The server's Debian package, built from the binaries the tests just built: installed,
# started, asked for its status, removed and purged.
bash scripts/test-deb.sh target/debug
