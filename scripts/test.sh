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
cargo test --workspace --exclude jiceng-desktop -- --nocapture

log "TypeScript bindings generated from Rust are committed and current"
git diff --exit-code -- ui/src/bindings || { echo "ui/src/bindings changed: commit the regenerated bindings" >&2; exit 1; }

build_server
log "API contract: schema/openapi.json fuzzed against the running server with schemathesis"
"$ROOT/scripts/fuzz-api.sh"

build_desktop

log "end to end: the real desktop under Xvfb, driven through tauri-driver + WebKitWebDriver"
cargo test -p jiceng-tests --features e2e --test e2e_desktop -- --nocapture --test-threads=1

log "all tests passed in $(( $(date +%s) - started )) s"
