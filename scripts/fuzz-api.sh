#!/usr/bin/env bash
# Issue 9: fuzzes the running sync server from its OpenAPI document (schema/openapi.json) with
# schemathesis (PyPI), as an enrolled district site, and prints the counts: requests, responses by
# status, 5xx (must be 0), checks failed (must be 0). Every error must be a documented JSON code.
# JICENG_FUZZ_EXAMPLES sets the examples per operation (default 40).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
ensure_schemathesis
build_server

work=$(mktemp -d /tmp/jiceng-fuzz.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server="$CARGO_TARGET_DIR/debug/jiceng-server"
"$server" --db "$work/master.sqlite" admin demo > "$work/demo.json"
RUST_LOG=warn "$server" --db "$work/master.sqlite" serve --listen "127.0.0.1:$port" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
  sleep 0.1
done
code=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(s["enrolment_code"] for s in d["sites"] if s["name"] == "区司法局"))' "$work/demo.json")
token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/enrol" -H 'content-type: application/json' \
  -d "{\"code\": \"$code\", \"device_label\": \"fuzz\", \"db_instance_id\": \"fuzz\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

set +e
"$SCHEMATHESIS" run schema/openapi.json --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,unsupported_method \
  --max-examples "${JICENG_FUZZ_EXAMPLES:-40}" --seed 9 --no-color --workers 1 \
  --generation-database none \
  --report har --report-har-path "$work/fuzz.har" > "$work/schemathesis.txt" 2>&1
status=$?
set -e
python3 - "$work/fuzz.har" "$status" <<'PY'
import collections, json, sys
har = json.load(open(sys.argv[1]))
statuses = collections.Counter(e["response"]["status"] for e in har["log"]["entries"])
server_errors = sum(n for s, n in statuses.items() if s >= 500)
print(f"schemathesis: {sum(statuses.values())} requests, {server_errors} 5xx, responses by status {dict(sorted(statuses.items()))}, exit {sys.argv[2]}")
PY
if [ "$status" -ne 0 ]; then
  tail -60 "$work/schemathesis.txt" >&2
  echo "schemathesis found failures (above)" >&2
  exit 1
fi
grep -E "passed|failed|errors" "$work/schemathesis.txt" | tail -3 >&2 || true
