#!/usr/bin/env bash
# Issue 14 §3: the release packages, into dist/, each carrying the workspace's version in its name.
#   dist/jiceng-desktop_<version>_amd64.deb   the desktop for the offices' PCs (Tauri's bundler, release)
#   dist/jiceng-server_<version>_amd64.deb    the sync server as a systemd service (dpkg-deb)
# Usage: scripts/package.sh [--debug]   (--debug: the debug build, minutes faster, for trying it out)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_apt_packages
ensure_npm_deps

version="$(workspace_version)"
profile=release
if [ "${1:-}" = "--debug" ]; then profile=debug; fi
mkdir -p dist

if [ "$profile" = release ]; then desktop="$(build_deb --release)"; else desktop="$(build_deb)"; fi
cp "$desktop" "dist/jiceng-desktop_${version}_amd64.deb"

log "building the server ($profile)"
if [ "$profile" = release ]; then cargo build -q --release -p jiceng-server --bin jiceng-server
else cargo build -q -p jiceng-server --bin jiceng-server; fi
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$CARGO_TARGET_DIR/$profile/jiceng-server" "$stage/usr/bin/jiceng-server"
install -D -m 0644 packaging/jiceng-server.service "$stage/lib/systemd/system/jiceng-server.service"
install -D -m 0640 packaging/server.toml.example "$stage/etc/jiceng/server.toml"
install -D -m 0644 CHANGELOG.md "$stage/usr/share/doc/jiceng-server/changelog"
mkdir -p "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: jiceng-server
Version: ${version}
Architecture: amd64
Maintainer: Jiceng developers <jiceng@localhost>
Depends: libc6, libssl3
Section: net
Priority: optional
Description: 基层通 Jiceng sync server
 Merges the offices' operation logs into the district master record (SQLite or PostgreSQL)
 and hands each site back what it may see. Runs as the systemd service jiceng-server.
CONTROL
echo "/etc/jiceng/server.toml" > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
# The service's own user; its state lives in /var/lib/jiceng (systemd's StateDirectory).
if ! getent passwd jiceng >/dev/null; then
  adduser --system --group --home /var/lib/jiceng --no-create-home jiceng >/dev/null
fi
chgrp jiceng /etc/jiceng/server.toml
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
POSTINST
chmod 0755 "$stage/DEBIAN/postinst"
dpkg-deb --root-owner-group --build "$stage" "dist/jiceng-server_${version}_amd64.deb" >/dev/null

for f in dist/jiceng-desktop_${version}_amd64.deb dist/jiceng-server_${version}_amd64.deb; do
  log "$f: $(du -h "$f" | cut -f1)"
done
