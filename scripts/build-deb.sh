#!/usr/bin/env bash
# Builds the Debian package of the server: mocha-server and the mocha CLI, a `mocha`
# system user, a hardened systemd unit, data in /var/lib/mocha and settings in
# /etc/mocha/mocha.toml. Usage: scripts/build-deb.sh [BINARY_DIR] [OUT_DIR]
#   BINARY_DIR  where mocha-server and mocha are (default: target/release, built here
#               with `cargo build --release` when missing)
#   OUT_DIR     where the .deb goes (default: target/deb)
set -euo pipefail
cd "$(dirname "$0")/.."

bin_dir=${1:-target/release}
out_dir=${2:-target/deb}
if [ "$bin_dir" = target/release ] && { [ ! -x target/release/mocha-server ] || [ ! -x target/release/mocha ]; }; then
  cargo build --release --locked --bin mocha-server --bin mocha
fi
for program in mocha-server mocha; do
  [ -x "$bin_dir/$program" ] || { echo "no $bin_dir/$program: build it first" >&2; exit 1; }
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

install -D -m 0755 "$bin_dir/mocha-server" "$root/usr/bin/mocha-server"
install -D -m 0755 "$bin_dir/mocha" "$root/usr/bin/mocha"
install -D -m 0644 packaging/deb/mocha-server.service "$root/lib/systemd/system/mocha-server.service"
install -D -m 0640 packaging/deb/mocha.toml "$root/etc/mocha/mocha.toml"
install -D -m 0644 README.md "$root/usr/share/doc/mocha-server/README.md"
install -D -m 0644 docs/operations.md "$root/usr/share/doc/mocha-server/operations.md"
install -d "$root/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$root/DEBIAN/$script"
done
echo /etc/mocha/mocha.toml > "$root/DEBIAN/conffiles"
size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: mocha-server
Version: $version
Architecture: $arch
Maintainer: Mocha developers <mocha@localhost>
Installed-Size: $size
Depends: adduser, libc6
Section: net
Priority: optional
Homepage: https://localhost:8443/
Description: self-hostable classic instant messenger server
 Mocha runs a whole instant-messenger network for you and your friends:
 Passport accounts, the Notification Server, the Switchboard with its UDP
 media relay for calls, and the websites, on one embedded SQLite database.
 Includes the mocha command-line client.
CONTROL

mkdir -p "$out_dir"
package="$out_dir/mocha-server_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$package" >/dev/null
echo "$package"
