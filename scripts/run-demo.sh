#!/usr/bin/env bash
# Sets up what is missing, then runs the main job: the sync server on its embedded SQLite master with a
# demo district, and the desktop app enrolled to it as the 北新桥街道司法所 laptop.
# State lives in .demo/ (delete it to start over). Stop with Ctrl-C.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

PORT="${JICENG_PORT:-8470}"
DEMO_DIR="$ROOT/.demo"
MASTER="$DEMO_DIR/master.sqlite"
SITE_NAME="${JICENG_DEMO_SITE:-北新桥街道司法所}"

ensure_apt_packages
ensure_npm_deps
build_server
build_desktop
SERVER="$CARGO_TARGET_DIR/debug/jiceng-server"
DESKTOP="$CARGO_TARGET_DIR/debug/jiceng-desktop"

# A demo left by an older build whose master format changed is moved aside (kept, never deleted): the
# server refuses a master it cannot read, and the desktop's enrolment belongs to that old master.
FORMAT=$(cat "$ROOT"/schema/server/*.sql "$ROOT"/sync-server/src/master/log_files.rs "$ROOT"/core/src/codec.rs | sha256sum | cut -c1-16)
if [ -d "$DEMO_DIR" ] && [ "$(cat "$DEMO_DIR/format" 2>/dev/null)" != "$FORMAT" ]; then
  OLD="$DEMO_DIR.old-$(date +%Y%m%d%H%M%S)"
  log "the demo in $DEMO_DIR was made by an older build: moving it to $OLD and starting a new one"
  mv "$DEMO_DIR" "$OLD"
fi
mkdir -p "$DEMO_DIR"
echo "$FORMAT" > "$DEMO_DIR/format"
if [ ! -f "$MASTER" ]; then
  log "creating the demo district in $MASTER"
  "$SERVER" --db "$MASTER" admin demo --month > "$DEMO_DIR/demo.json"
fi

log "starting jiceng-server on http://127.0.0.1:$PORT"
"$SERVER" --db "$MASTER" serve --listen "127.0.0.1:$PORT" 2> "$DEMO_DIR/server.log" &
SERVER_PID=$!
XVFB_PID=""
cleanup() {
  kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null && break
  sleep 0.1
done

CODE=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(s["enrolment_code"] for s in d["sites"] if s["name"]==sys.argv[2]))' "$DEMO_DIR/demo.json" "$SITE_NAME")

if [ -z "${DISPLAY:-}" ]; then
  log "no DISPLAY: starting Xvfb :77 (headless; take a look with: DISPLAY=:77 import -window root shot.png)"
  Xvfb :77 -screen 0 1280x800x24 -nolisten tcp &
  XVFB_PID=$!
  export DISPLAY=:77
  sleep 0.5
fi

cat >&2 <<INFO

  基层通 Jiceng demo
  server:   http://127.0.0.1:$PORT   (master: $MASTER, log: $DEMO_DIR/server.log)
  desktop:  $SITE_NAME, data in $DEMO_DIR/desktop
  log in:   officer1 / jiceng-demo   (district admin: admin / jiceng-demo; all demo users in $DEMO_DIR/demo.json)
  other desktops: the codes in $DEMO_DIR/demo.json, e.g.
            JICENG_DATA_DIR=/tmp/other $DESKTOP   (enter the server address and a code on first start)

INFO
JICENG_DATA_DIR="$DEMO_DIR/desktop" JICENG_SERVER_URL="http://127.0.0.1:$PORT" JICENG_ENROL_CODE="$CODE" "$DESKTOP"
