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
  fonts-noto-cjk fonts-hanazono faketime jq
  # Issue 13 §2: the end to end test reads the dashboards' A4 PDF (pdfinfo, pdftotext, pdftoppm).
  poppler-utils
  # Issue 12 §2: the master on PostgreSQL; the tests run a throw-away cluster of their own with its
  # server programs (/usr/lib/postgresql/15/bin), as the unprivileged user the package creates.
  postgresql-15)

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

# Issue 14 §1: the desktop as a .deb from Tauri's bundler (offline; AppImage's step downloads tools
# and is not used). `build_deb` makes the debug-profile package the tests install (the warm debug
# build); `build_deb --release` the one offices get. Prints the package's path.
build_deb() {
  local profile=debug flags=(--debug)
  if [ "${1:-}" = "--release" ]; then profile=release flags=(); fi
  log "building the desktop package (.deb, $profile)"
  rm -f "$CARGO_TARGET_DIR/$profile/bundle/deb/"*.deb
  (cd "$ROOT/ui" && npm run --silent tauri -- build "${flags[@]}" --bundles deb >&2)
  ls "$CARGO_TARGET_DIR/$profile/bundle/deb/"*.deb
}

# The workspace's version (Cargo.toml [workspace.package]), which every package carries.
workspace_version() {
  sed -n '/^\[workspace.package\]/,/^\[/{s/^version *= *"\(.*\)"/\1/p}' "$ROOT/Cargo.toml" | head -n 1
}

# The package name inside a .deb (what apt-get remove takes).
deb_package_name() {
  dpkg-deb -f "$1" Package
}

build_server() {
  log "building jiceng-server"
  cargo build -q -p jiceng-server --bin jiceng-server
}

# Tests passed in a `cargo test` output file: all of them, or with a second argument (executables, one a
# line) only those of the listed test binaries (cargo names each binary on its "Running" line).
tests_passed() {
  awk -v list="${2:-}" '
    BEGIN { n = split(list, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
    /^ *Running / { cur = $NF; gsub(/[()]/, "", cur); next }
    /^ *Doc-tests / { cur = ""; next }
    /^test result: / { if (n == 0 || (cur in want)) s += $4 }
    END { print s + 0 }' "$1"
}

# The test executables of jiceng-core and jiceng-server, "package dir<TAB>executable" a line, as the
# workspace test step built them (same packages and features, so --no-run builds nothing).
core_server_test_binaries() {
  cargo test -q --workspace --exclude jiceng-desktop --no-run --message-format=json |
    jq -r 'select(.reason == "compiler-artifact" and .profile.test and .executable != null)
      | select(.manifest_path | (endswith("/core/Cargo.toml") or endswith("/sync-server/Cargo.toml")))
      | "\(.manifest_path | rtrimstr("/Cargo.toml"))\t\(.executable)"'
}

# Runs those executables, each in its package dir as cargo does, with the wall clock moved by faketime:
# $1 is the Shanghai date that gives (store_rules checks the binaries really see it), the rest the
# faketime arguments before the program. The binaries run directly, not through cargo, so the moved
# clock cannot make cargo's fingerprints rebuild anything. The convergence property injects its own
# clocks, so it runs 64 cases here, not 1000. Prints the tests passed; fails if any test failed.
# One test at a time: these runs look for tests that read the real date; concurrency is the real-date
# run's. Under faketime's interposition, concurrent SQLCipher keying in one process failed twice in
# a row at `PRAGMA key` (a race inside SQLCipher is suspected: sqlcipher/sqlcipher#598; core now
# keys one connection at a time, store/encryption.rs).
tests_with_date_moved() {
  local expect_today=$1 binaries out dir exe passed=0 failed=0
  shift
  binaries=$(core_server_test_binaries) || return 1
  out=$(mktemp) || return 1
  while IFS=$'\t' read -r dir exe; do
    if (cd "$dir" && JICENG_EXPECT_TODAY="$expect_today" JICENG_PROPTEST_CASES=64 \
      faketime -m --exclude-monotonic "$@" "$exe" --quiet --test-threads=1) >"$out" 2>&1; then
      passed=$((passed + $(tests_passed "$out")))
    else
      failed=1
      printf '%s (faketime %s):\n' "$exe" "$*" >&2
      cat "$out" >&2
    fi
  done <<<"$binaries"
  rm -f "$out"
  [ "$failed" = 0 ] || { echo "core/server tests fail with the date moved to $expect_today" >&2; return 1; }
  echo "$passed"
}
