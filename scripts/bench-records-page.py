#!/usr/bin/env python3
"""Issue 9: the time of one /api/v1/records page on a master of 250,000 cases (not a timed test; prints
medians). Usage: scripts/bench-records-page.py <jiceng-server binary> <label>. Rows are inserted directly
into a demo master (a page only reads them)."""
import json, os, sqlite3, subprocess, sys, time, urllib.request, socket, tempfile, uuid
binary, label = sys.argv[1], sys.argv[2]
d = tempfile.mkdtemp()
db = os.path.join(d, "m.sqlite")
demo = json.loads(subprocess.check_output([binary, "--db", db, "admin", "demo"]))
conn = sqlite3.connect(db)
unit = next(s["org_unit_id"] for s in demo["sites"] if s["name"] == "北新桥街道司法所")
rows = [(f"bench-{i:07d}", unit, f"张{i}", "110101199003074514", "received", b"") for i in range(250_000)]
conn.executemany("INSERT INTO corr_case (id, org_unit_id, name, id_number, status, _versions) VALUES (?,?,?,?,?,?)", rows)
conn.commit(); conn.close()
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
p = subprocess.Popen([binary, "--db", db, "serve", "--listen", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(100):
    try: urllib.request.urlopen(base + "/api/v1/health"); break
    except Exception: time.sleep(0.1)
code = next(s["enrolment_code"] for s in demo["sites"] if s["name"] == "区司法局")
req = urllib.request.Request(base + "/api/v1/enrol", data=json.dumps({"code": code, "device_label": "b", "db_instance_id": "b"}).encode(), headers={"content-type": "application/json"})
token = json.load(urllib.request.urlopen(req))["token"]
def get(path):
    r = urllib.request.Request(base + path, headers={"authorization": "Bearer " + token})
    t = time.perf_counter(); body = urllib.request.urlopen(r).read(); return time.perf_counter() - t, body
for path in ["/api/v1/records/corr_case?limit=100", "/api/v1/records/corr_case?offset=200000&limit=100", "/api/v1/records/corr_case?after=bench-0200000&limit=100"]:
    times = sorted(get(path)[0] for _ in range(5))
    print(f"{label}: {path}: median {times[2]*1000:.1f} ms over 5")
p.terminate(); p.wait()
