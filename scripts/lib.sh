# Shared by scripts/*.sh: environment and idempotent installs. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One target dir outside the clone, shared by the work tree and CI, so a fresh clone does not rebuild
# the WebKit bindings (BUILD-NOTES: 12.5 min with an empty target dir, 1.5 min with a kept one).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/jiceng/target}"
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p "$CARGO_TARGET_DIR"

log() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_PACKAGES=(libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev pkg-config xvfb xauth webkit2gtk-driver imagemagick
  fonts-noto-cjk fonts-hanazono)

ensure_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_npm_deps() {
  if [ ! -d "$ROOT/ui/node_modules" ] || [ "$ROOT/ui/package-lock.json" -nt "$ROOT/ui/node_modules/.package-lock.json" ]; then
    log "installing UI packages (npm ci)"
    (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_tauri_driver() {
  if ! command -v tauri-driver >/dev/null 2>&1; then
    log "installing tauri-driver 2.x (cargo install, about 2 minutes once)"
    cargo install tauri-driver --locked --version '^2'
  fi
}

# schemathesis (PyPI) in a virtual environment beside the target dir, for scripts/fuzz-api.sh.
SCHEMATHESIS_VENV="${SCHEMATHESIS_VENV:-/var/cache/jiceng/venv}"
SCHEMATHESIS="$SCHEMATHESIS_VENV/bin/schemathesis"
ensure_schemathesis() {
  if [ ! -x "$SCHEMATHESIS" ]; then
    log "installing schemathesis (PyPI) into $SCHEMATHESIS_VENV"
    python3 -m venv "$SCHEMATHESIS_VENV"
    "$SCHEMATHESIS_VENV/bin/pip" install -q 'schemathesis>=4,<5'
  fi
}

# Builds the desktop app with ui/dist embedded (a plain cargo build would load the Vite dev server).
build_desktop() {
  log "building the desktop app (tauri build --debug --no-bundle)"
  (cd "$ROOT/ui" && npm run --silent desktop:build >&2)
}

build_server() {
  log "building jiceng-server"
  cargo build -q -p jiceng-server --bin jiceng-server
}
