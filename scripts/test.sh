#!/usr/bin/env bash
# Sets up what is missing and runs every test: formatting, lints, Rust unit/property/integration tests,
# the UI type check and build, and the desktop end to end under Xvfb through WebDriver.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
started=$(date +%s)

ensure_apt_packages
ensure_npm_deps
ensure_tauri_driver

log "cargo fmt --check"
cargo fmt --all -- --check

log "UI: vue-tsc --noEmit and vite build"
(cd ui && npm run --silent build >/dev/null)

log "cargo clippy -D warnings (whole workspace, desktop included)"
cargo clippy -q --workspace --all-targets -- -D warnings

log "Rust tests: core (unit, store rules, convergence property), server, multi-site"
rust_out=$(mktemp)
cargo test --workspace --exclude jiceng-desktop -- --nocapture 2>&1 | tee "$rust_out"

# Issue 12 §2: the multi-site suite (real server processes, real site stores) once more, every master a
# database of a throw-away PostgreSQL cluster (tests/src/pg.rs); the server's own backend suites
# (sync-server/tests/backends.rs, district_convergence.rs) already ran on both above.
log "multi-site suite again on a PostgreSQL master (JICENG_TEST_MASTER=postgres)"
pg_out=$(mktemp)
JICENG_TEST_MASTER=postgres cargo test -p jiceng-tests --tests -- --nocapture 2>&1 | tee "$pg_out"
pg_passed=$(tests_passed "$pg_out")
rm -f "$pg_out"

# Tests inject their clock (core/tests/common_setup.rs); one that reads the real date is a time bomb.
# Run core and server again with the date moved, so such a test fails the day it is written.
log "core and server tests with the date moved by faketime: 200 days ahead, then the coming 1 January"
ahead_day=$(TZ=Asia/Shanghai date -d '+200 days' +%F)
new_year="$(($(date +%Y) + 1))-01-01"
ahead_passed=$(tests_with_date_moved "$ahead_day" -f '+200d')
new_year_passed=$(tests_with_date_moved "$new_year" "$new_year 09:00:00 +0800")
log "tests passed: real date $(tests_passed "$rust_out") (workspace; core + server \
$(tests_passed "$rust_out" "$(core_server_test_binaries | cut -f2)")), $ahead_day $ahead_passed and \
$new_year $new_year_passed (core + server); on PostgreSQL masters $pg_passed (multi-site)"
rm -f "$rust_out"

log "TypeScript bindings and the command layer generated from Rust are committed and current"
git diff --exit-code -- ui/src/bindings ui/src/commands.ts src-tauri/src/command_list.rs || {
  echo "generated files changed (ui/src/bindings, ui/src/commands.ts, src-tauri/src/command_list.rs): commit them" >&2
  exit 1
}

build_server
log "API contract: schema/openapi.json fuzzed against the running server with schemathesis"
"$ROOT/scripts/fuzz-api.sh"

build_desktop

log "end to end: the real desktop under Xvfb, driven through tauri-driver + WebKitWebDriver"
cargo test -p jiceng-tests --features e2e --test e2e_desktop -- --nocapture --test-threads=1

# Issue 14 §1: the package as an office gets it: installed with apt (dependencies from Debian),
# started from its installed path under Xvfb at the enrolment screen, removed afterwards.
deb="$(build_deb)"
package="$(deb_package_name "$deb")"
log "installing $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB) with apt-get, starting it under Xvfb"
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$deb" >/dev/null
trap 'DEBIAN_FRONTEND=noninteractive as_root apt-get remove -y -qq "$package" >/dev/null || true' EXIT
installed="$(dpkg -L "$package" | grep -E '^/usr/bin/' | head -n 1)"
JICENG_INSTALLED_APP="$installed" cargo test -p jiceng-tests --features e2e --test e2e_desktop \
  the_installed_package_starts_at_the_enrolment_screen -- --ignored --nocapture --test-threads=1
DEBIAN_FRONTEND=noninteractive as_root apt-get remove -y -qq "$package" >/dev/null
trap - EXIT
log "the package $package installed, started at the enrolment screen and removed"

log "all tests passed in $(( $(date +%s) - started )) s"
