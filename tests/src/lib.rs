//! Shared helpers of the cross-component tests: a real `jiceng-server` process on 127.0.0.1 with a
//! temporary SQLite master and the demo district, and sites that are real `jiceng-core` stores.

pub mod counting_proxy;
pub mod desktop;
pub mod master_view;
pub mod pg;
pub mod proxy;
pub mod raw;
pub mod webdriver;

use jiceng_core::model::SessionUser;
use jiceng_core::store::Store;
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The workspace's target dir (honours CARGO_TARGET_DIR, as the test scripts set it).
pub fn target_dir() -> PathBuf {
    // Test executables live in <target>/<profile>/deps/.
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("target profile dir")
}

/// Path of the `jiceng-server` binary, building it if `cargo test -p jiceng-tests` ran alone. A bench
/// (release profile) always asks cargo first, a no-op when the server is current: a bench on a release
/// server older than the code measures the old code (it happened once, BENCHMARKS.md). The bench's
/// server is built in a target dir of its own: built beside the bench, `-p jiceng-server` alone
/// resolves other features of the shared crates than the bench did, so each build undid the other
/// and every bench run recompiled both (over a minute each).
pub fn server_binary() -> PathBuf {
    // A/B benchmarks of two builds of the server: the one to run, already built.
    if let Some(path) = std::env::var_os("JICENG_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let dir = target_dir();
    let release = dir.file_name().is_some_and(|n| n == "release");
    if !release {
        let path = dir.join("jiceng-server");
        if !path.exists() {
            build_server(&[]);
        }
        return path;
    }
    let own = dir
        .parent()
        .map(|root| root.join("bench-server"))
        .expect("target root");
    let own_arg = own.to_string_lossy().into_owned();
    build_server(&["--release", "--target-dir", &own_arg]);
    own.join("release").join("jiceng-server")
}

fn build_server(extra: &[&str]) {
    let mut args = vec![
        "build",
        "-q",
        "-p",
        "jiceng-server",
        "--bin",
        "jiceng-server",
    ];
    args.extend_from_slice(extra);
    let status = Command::new(env!("CARGO"))
        .args(&args)
        .status()
        .expect("cargo build jiceng-server");
    assert!(status.success(), "building jiceng-server failed");
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jiceng-{label}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A running `jiceng-server serve` with its master file.
pub struct TestServer {
    pub dir: PathBuf,
    pub master: PathBuf,
    pub port: u16,
    child: Option<Child>,
    /// Issue 11 §2: serving HTTPS with `tls-init`'s certificates: (chain, key, the pinned address).
    tls: Option<(PathBuf, PathBuf, String)>,
}

impl TestServer {
    /// Creates a master with the demo district (returning `admin demo`'s JSON) and starts serving it.
    /// With `JICENG_TEST_MASTER=postgres` the master is a PostgreSQL database instead (the test
    /// command runs the multi-site suite once on each backend, issue 12 §2).
    pub fn start_demo(label: &str) -> (TestServer, Value) {
        if masters_on_postgres() {
            return TestServer::start_demo_postgres(label);
        }
        let dir = temp_dir(label);
        let master = dir.join("master.sqlite");
        TestServer::start_demo_at(dir, master)
    }

    /// [`TestServer::start_demo`] on a PostgreSQL master: a fresh database of the test process's
    /// throw-away cluster (issue 12 §2).
    pub fn start_demo_postgres(label: &str) -> (TestServer, Value) {
        let cluster = pg::PgCluster::shared().unwrap_or_else(|e| panic!("{e}"));
        let url = cluster
            .fresh_database(label)
            .unwrap_or_else(|e| panic!("{e}"));
        TestServer::start_demo_at(temp_dir(label), PathBuf::from(url))
    }

    /// Another server process serving the same master (PostgreSQL: several processes behind a load
    /// balancer), on a port of its own.
    pub fn another_process(&self) -> TestServer {
        let mut other = TestServer {
            dir: self.dir.clone(),
            master: self.master.clone(),
            port: free_port(),
            child: None,
            tls: self.tls.clone(),
        };
        other.start();
        other
    }

    /// [`TestServer::start_demo`] with the run command's month of work at every office (issue 13 §6).
    pub fn start_demo_month(label: &str) -> (TestServer, Value) {
        let dir = temp_dir(label);
        let master = if masters_on_postgres() {
            let cluster = pg::PgCluster::shared().unwrap_or_else(|e| panic!("{e}"));
            PathBuf::from(
                cluster
                    .fresh_database(label)
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        } else {
            dir.join("master.sqlite")
        };
        TestServer::start_demo_with(dir, master, &["--month"])
    }

    fn start_demo_at(dir: PathBuf, master: PathBuf) -> (TestServer, Value) {
        TestServer::start_demo_with(dir, master, &[])
    }

    fn start_demo_with(dir: PathBuf, master: PathBuf, extra: &[&str]) -> (TestServer, Value) {
        // The tests' own HTTP clients (reqwest without a provider of its own) need one installed.
        jiceng_core::tls::ensure_crypto_provider();
        let output = Command::new(server_binary())
            .args([
                "--db",
                master.to_str().expect("utf-8 path"),
                "admin",
                "demo",
            ])
            .args(extra)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run admin demo");
        assert!(
            output.status.success(),
            "admin demo failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let demo: Value = serde_json::from_slice(&output.stdout).expect("demo JSON");
        let mut server = TestServer {
            dir,
            master,
            port: free_port(),
            child: None,
            tls: None,
        };
        server.register_authors();
        server.start();
        (server, demo)
    }

    /// Tells [`raw::chain`] who writes for each site: a user of the site's own unit (issue 11 §5: the
    /// server holds operations whose author its directory does not know).
    pub fn register_authors(&self) {
        let master = self.master();
        let users = master.table("app_user");
        for (site, _, unit, _) in master.sites() {
            let first = users
                .iter()
                .filter(|u| u.get("org_unit_id").and_then(Value::as_str) == Some(unit.as_str()))
                .filter_map(|u| u["id"].as_str())
                .min();
            if let Some(user) = first {
                raw::register_author(&site, user);
            }
        }
    }

    /// [`TestServer::start_demo`] over HTTPS, with a district CA made by `jiceng-server tls-init`.
    pub fn start_demo_tls(label: &str) -> (TestServer, Value) {
        let (server, demo) = TestServer::start_demo(label);
        (server.over_tls(), demo)
    }

    /// The same server restarted over HTTPS, with a district CA made by `jiceng-server tls-init`.
    pub fn over_tls(self) -> TestServer {
        let mut server = self;
        server.kill();
        let out = Command::new(server_binary())
            .args(["tls-init", "--dir"])
            .arg(server.dir.join("tls"))
            .args(["--port", &server.port.to_string()])
            .output()
            .expect("run tls-init");
        assert!(
            out.status.success(),
            "tls-init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let made: Value = serde_json::from_slice(&out.stdout).expect("tls-init JSON");
        let address = made["enrolment_addresses"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .find(|a| a.starts_with("https://127.0.0.1:"))
            })
            .expect("an address for 127.0.0.1")
            .to_string();
        let path = |key: &str| PathBuf::from(made[key].as_str().expect("a path"));
        server.tls = Some((path("server_cert"), path("server_key"), address));
        server.start();
        server
    }

    /// The address a site enrols with: plain http, or over TLS the https address with its pin.
    pub fn enrolment_address(&self) -> String {
        match &self.tls {
            Some((_, _, address)) => address.clone(),
            None => self.url(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.master
            .to_str()
            .is_some_and(|m| m.starts_with("postgres://"))
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "server already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .expect("server log");
        let mut command = Command::new(server_binary());
        command.args([
            "--db",
            self.master.to_str().expect("utf-8 path"),
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", self.port),
            // Closed days stay in the test's directory; none is closed on its own during a test
            // (the schedule's rule is core's, unit-tested).
            "--consolidate-at",
            "off",
        ]);
        command
            .arg("--consolidation-dir")
            .arg(self.consolidation_dir());
        if self.master.to_string_lossy().starts_with("postgres://") {
            // The admin replica kept between runs, as a packaged server keeps it: a restarted test
            // server resumes it, and every PostgreSQL test runs over it.
            command
                .arg("--replica-dir")
                .arg(self.dir.join("admin-replica"));
        }
        if let Some((cert, key, _)) = &self.tls {
            command
                .arg("--tls-cert")
                .arg(cert)
                .arg("--tls-key")
                .arg(key);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn jiceng-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                // Over TLS the clock is not asked (the raw helpers that use it speak plain http).
                if self.tls.is_none() {
                    raw::set_server_clock(read_server_time(stream));
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("jiceng-server did not start listening on {}", self.port);
    }

    /// Kills the server abruptly (SIGKILL), as a power cut would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Registers another site (a second laptop) at the org unit of the demo site `like`, with the admin
    /// CLI while the server runs, and adds it with its enrolment code to `demo["sites"]`.
    pub fn add_site_like(&self, demo: &mut Value, like: &str, name: &str) {
        let org = demo["sites"]
            .as_array()
            .and_then(|sites| sites.iter().find(|s| s["name"] == like))
            .and_then(|s| s["org_unit_id"].as_str())
            .unwrap_or_else(|| panic!("demo has no site {like}"))
            .to_string();
        let out = Command::new(server_binary())
            .args([
                "--db",
                self.master.to_str().expect("utf-8 path"),
                "admin",
                "site-add",
                "--org",
                &org,
                "--name",
                name,
            ])
            .output()
            .expect("run admin site-add");
        assert!(
            out.status.success(),
            "site-add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let added: Value = serde_json::from_slice(&out.stdout).expect("site-add JSON");
        demo["sites"]
            .as_array_mut()
            .expect("sites")
            .push(serde_json::json!({ "name": name, "org_unit_id": org, "enrolment_code": added["enrolment_code"] }));
        self.register_authors();
    }

    /// Where the server keeps closed days (issue 13 §1).
    pub fn consolidation_dir(&self) -> PathBuf {
        self.dir.join("consolidated")
    }

    /// The master file (its log segments sit beside it).
    pub fn master_path(&self) -> PathBuf {
        self.master.clone()
    }

    /// Runs `jiceng-server --db <master> <args…>` (the admin CLI, backup, restore) and returns its
    /// standard output; panics with its error output when it fails.
    pub fn cli(&self, args: &[&str]) -> String {
        run_cli(&self.master, args)
    }

    /// A new one-time enrolment code for an existing site (re-enrolment after a reinstall), from the
    /// admin CLI while the server runs.
    pub fn new_code(&self, site_id: &str) -> String {
        let out = Command::new(server_binary())
            .args([
                "--db",
                self.master.to_str().expect("utf-8 path"),
                "admin",
                "site-code",
                "--site",
                site_id,
            ])
            .output()
            .expect("run admin site-code");
        assert!(
            out.status.success(),
            "site-code failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The master as assertions read it, on either backend.
    pub fn master(&self) -> master_view::MasterView {
        master_view::MasterView::open(&self.master)
    }

    /// Reads the SQLite master file directly (assertions about the file itself: backups, segments).
    pub fn master_connection(&self) -> rusqlite::Connection {
        assert!(
            !self.is_postgres(),
            "master_connection reads the SQLite file; use TestServer::master on PostgreSQL"
        );
        rusqlite::Connection::open_with_flags(
            &self.master,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open master")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server's clock from its `/health` answer (a plain HTTP/1.0 exchange on a fresh connection).
fn read_server_time(mut stream: std::net::TcpStream) -> u64 {
    use std::io::{Read, Write};
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    stream
        .write_all(b"GET /api/v1/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("ask the server's clock");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("read the server's clock");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let health: Value = serde_json::from_str(body).expect("health JSON");
    health["server_time_ms"].as_u64().expect("server_time_ms")
}

/// Runs `jiceng-server --db <master> <args…>` and returns its standard output; panics with its error
/// output when it fails. Callable from any thread (a backup beside a running server).
pub fn run_cli<S: AsRef<std::ffi::OsStr>>(master: &Path, args: &[S]) -> String {
    let out = Command::new(server_binary())
        .arg("--db")
        .arg(master)
        .args(args)
        .output()
        .expect("run jiceng-server");
    assert!(
        out.status.success(),
        "jiceng-server failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The enrolment code the demo JSON gives a site.
pub fn enrolment_code_of(demo: &Value, site_name: &str) -> String {
    demo["sites"]
        .as_array()
        .and_then(|sites| sites.iter().find(|s| s["name"] == site_name))
        .and_then(|s| s["enrolment_code"].as_str())
        .unwrap_or_else(|| panic!("demo has no site {site_name}"))
        .to_string()
}

/// A desktop site: a real store file enrolled through the real client.
pub struct Site {
    pub name: String,
    pub store: Mutex<Store>,
    pub path: PathBuf,
}

impl Site {
    pub async fn enrol(server: &TestServer, demo: &Value, site_name: &str) -> Site {
        Site::enrol_via(server, demo, site_name, &server.enrolment_address()).await
    }

    /// Enrols through another address than the server's own (a proxy), which the site keeps.
    pub async fn enrol_via(server: &TestServer, demo: &Value, site_name: &str, url: &str) -> Site {
        let code = enrolment_code_of(demo, site_name);
        let path = server.dir.join(format!("{site_name}.sqlite"));
        let store = Mutex::new(Store::open(&path).expect("site store"));
        jiceng_core::sync::enrol(&store, url, &code)
            .await
            .unwrap_or_else(|e| panic!("enrol {site_name}: {e}"));
        Site {
            name: site_name.to_string(),
            store,
            path,
        }
    }

    /// Enrols without the first sync (which would take the site's whole snapshot at once): for tests
    /// and benches that interrupt or time it (issue 12 §6).
    pub async fn enrol_without_sync(server: &TestServer, demo: &Value, site_name: &str) -> Site {
        let code = enrolment_code_of(demo, site_name);
        let path = server.dir.join(format!("{site_name}.sqlite"));
        let mut store = Store::open(&path).expect("site store");
        let enrolled: jiceng_core::wire::EnrolResponse = reqwest::Client::new()
            .post(format!("{}/api/v1/enrol", server.url()))
            .json(&jiceng_core::wire::EnrolRequest {
                code,
                device_label: site_name.to_string(),
                db_instance_id: store.instance_id().expect("instance id"),
            })
            .send()
            .await
            .expect("enrol")
            .json()
            .await
            .expect("enrol JSON");
        store
            .continue_site_log(enrolled.last_seq, &enrolled.last_hash)
            .expect("site log");
        store
            .set_identity(&jiceng_core::store::SiteIdentity {
                site_id: enrolled.site_id,
                site_name: enrolled.site_name,
                org_unit_id: enrolled.org_unit_id,
                org_unit_name: enrolled.org_unit_name,
                server_url: server.url(),
                token: enrolled.token,
                tls_pin: None,
            })
            .expect("identity");
        Site {
            name: site_name.to_string(),
            store: Mutex::new(store),
            path,
        }
    }

    pub fn login(&self, username: &str) -> SessionUser {
        self.lock().login(username, "jiceng-demo").expect("login")
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().expect("store lock")
    }

    pub async fn sync(&self) -> Result<jiceng_core::model::SyncStatus, jiceng_core::SyncError> {
        jiceng_core::sync::sync_now(&self.store).await
    }

    pub fn site_id(&self) -> String {
        self.lock()
            .identity()
            .expect("identity")
            .expect("enrolled")
            .site_id
    }

    pub fn token(&self) -> String {
        self.lock()
            .identity()
            .expect("identity")
            .expect("enrolled")
            .token
    }
}

/// Which rows of a table a site may hold: (the column naming the row's org unit, the units in scope).
pub type ScopeFilter<'a> = Option<(&'a str, &'a [String])>;

/// Rows (id, _versions) of a table in a connection, optionally only those whose `scope_col` is in `scope`.
pub fn rows(
    conn: &rusqlite::Connection,
    table: &str,
    scope: ScopeFilter<'_>,
) -> Vec<(String, Vec<u8>)> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT id, _versions, {} FROM {table} ORDER BY id",
            scope.map(|s| s.0).unwrap_or("id")
        ))
        .expect("prepare");
    let all = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .expect("query");
    all.map(|r| r.expect("row"))
        .filter(|(_, _, owner)| match scope {
            None => true,
            Some((_, units)) => owner.as_ref().is_some_and(|o| units.contains(o)),
        })
        .map(|(id, versions, _)| (id, versions))
        .collect()
}

/// Whether the tests' masters are PostgreSQL databases (`JICENG_TEST_MASTER=postgres`).
pub fn masters_on_postgres() -> bool {
    std::env::var("JICENG_TEST_MASTER").is_ok_and(|v| v == "postgres")
}

/// The master's rows of a table as [`rows`] gives a site's: (id, full field history in the site
/// encoding), rebuilt from the audit log independently of the server's code
/// ([`master_view::MasterView::histories`]).
pub fn master_rows(
    master: &master_view::MasterView,
    table: &str,
    scope: ScopeFilter<'_>,
) -> Vec<(String, Vec<u8>)> {
    master.histories(table, |row| match scope {
        None => true,
        Some((column, units)) => row
            .get(column)
            .and_then(Value::as_str)
            .is_some_and(|unit| units.iter().any(|u| u == unit)),
    })
}

/// The master, filtered to what `site` may see, must equal the site's own tables exactly (values and the
/// whole field history), and so must the conflict items of those rows.
pub fn assert_site_equals_scoped_master(server: &TestServer, site: &Site, reads_corrections: bool) {
    let master = server.master();
    let identity = site.lock().identity().unwrap().unwrap();
    let scope = master.subtree(&identity.org_unit_id);
    let own_unit = [identity.org_unit_id.clone()];
    let store = site.lock();
    let local = store.connection();
    let mut expectations: Vec<(&str, ScopeFilter<'_>)> = vec![
        ("org_unit", Some(("id", &scope[..]))),
        ("app_user", Some(("org_unit_id", &own_unit[..]))),
    ];
    let district = master.district();
    let is_district = identity.org_unit_id == district;
    if reads_corrections {
        for table in [
            "corr_case",
            "corr_checkin",
            "corr_document",
            "corr_location_period",
        ] {
            expectations.push((table, Some(("org_unit_id", &scope[..]))));
        }
        // L-7: location data stays with the judicial office's own sites.
        if !is_district {
            expectations.push(("corr_location_event", Some(("org_unit_id", &scope[..]))));
        }
    }
    if is_district || !reads_corrections {
        assert_eq!(
            rows(local, "corr_location_event", None).len(),
            0,
            "{} holds location data",
            site.name
        );
    }
    for (table, filter) in expectations {
        let in_master = master_rows(&master, table, filter);
        let at_site = rows(local, table, None);
        assert_eq!(
            in_master, at_site,
            "{}: table {table} differs from the master's scoped view",
            site.name
        );
    }
    // W-: residents stay with the community workstation and the district, never a judicial office.
    let reads_residents = !reads_corrections || is_district;
    if reads_residents {
        assert_eq!(
            master_rows(&master, "resident", Some(("org_unit_id", &scope[..]))),
            rows(local, "resident", None),
            "{}: residents differ from the master's scoped view",
            site.name
        );
    } else {
        assert_eq!(
            rows(local, "resident", None).len(),
            0,
            "{} holds residents",
            site.name
        );
    }
    if !reads_corrections {
        assert_eq!(
            rows(local, "corr_case", None).len(),
            0,
            "{} holds corrections cases",
            site.name
        );
        assert_eq!(
            rows(local, "corr_checkin", None).len(),
            0,
            "{} holds check-ins",
            site.name
        );
    }
    if reads_corrections {
        let in_scope: std::collections::BTreeSet<String> = master
            .table("corr_case")
            .into_iter()
            .filter(|r| {
                r.get("org_unit_id")
                    .and_then(Value::as_str)
                    .is_some_and(|u| scope.iter().any(|s| s == u))
            })
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect();
        let on_master: Vec<String> = master
            .conflicts()
            .into_iter()
            .filter(|k| in_scope.contains(&k.row_id))
            .map(|k| k.id)
            .collect();
        let mut stmt = local
            .prepare(
                "SELECT k.id FROM conflict k JOIN corr_case r ON r.id = k.row_id ORDER BY k.id",
            )
            .unwrap();
        let at_site: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(on_master, at_site, "{}: conflict items differ", site.name);
    }
}

/// One record of the user's office kind, numbered `n` (a case at a judicial office, a resident at a
/// workstation), with a valid ID number distinct per writer `slot` (0-3) and record (n < 5,000).
pub fn write_record(
    store: &mut Store,
    user: &SessionUser,
    tag: &str,
    slot: u64,
    n: u64,
) -> Result<(), jiceng_core::CoreError> {
    let birth = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default()
        + chrono::Days::new((slot % 4) * 5_000 + n % 5_000);
    let id_number = jiceng_core::idcard::compose("110101", birth, (n % 997) as u16);
    let name = format!("{tag}对象{n}");
    if user.role == jiceng_core::model::Role::CommunityClerk {
        store.save_resident(
            user,
            jiceng_core::model::ResidentInput {
                id: None,
                name,
                id_number,
                phone: String::new(),
                building: format!("{}", n % 30 + 1),
                unit: "1".into(),
                room: format!("{}", 100 + n % 900),
                household_head: false,
                special_groups: Vec::new(),
                note: String::new(),
            },
        )?;
    } else {
        store.save_case(
            user,
            jiceng_core::model::CaseInput {
                id: None,
                name,
                id_number,
                kind: jiceng_core::model::CaseKind::Probation,
                sentence_start: "2026-05-01".into(),
                sentence_end: "2027-04-30".into(),
                org_unit_id: None,
                status: None,
                judgment_effective_on: None,
                reported_on: None,
                supervision_level: None,
                sealed_minor: None,
                address: None,
            },
        )?;
    }
    Ok(())
}

/// [`log_accounting`] of a site's own log as its store holds it: (operations, lost, doubled).
pub fn site_accounting(master: &master_view::MasterView, site: &Site) -> (u64, u64, u64) {
    let own: Vec<u64> = site
        .lock()
        .own_log()
        .expect("own log")
        .iter()
        .map(|op| op.site_seq)
        .collect();
    let (lost, doubled) = log_accounting(master, &site.site_id(), &own);
    (own.len() as u64, lost, doubled)
}

/// How the master's log accounts for one site's own log (ARCHITECTURE.md "At least once, exactly once
/// in effect"): operations of the site missing from the master (lost) and held or logged more than
/// once (doubled).
pub fn log_accounting(
    master: &master_view::MasterView,
    site_id: &str,
    own_seqs: &[u64],
) -> (u64, u64) {
    let ranges: Vec<(u64, u64, u64)> = master
        .log_ranges(site_id)
        .into_iter()
        .map(|r| (r.first_site_seq, r.last_site_seq, r.ops))
        .collect();
    // Every site_seq the master holds: the ranges of its log records (held operations inside a range
    // are not in the record but in quarantine) and the held ones, wherever they are.
    let mut held_seqs: Vec<u64> = master.held_of(site_id).iter().map(|h| h.site_seq).collect();
    held_seqs.sort_unstable();
    let mut covered: std::collections::BTreeSet<u64> = held_seqs.iter().copied().collect();
    let mut merged = 0u64;
    for (first, last, count) in &ranges {
        covered.extend(*first..=*last);
        merged += count;
    }
    let last = own_seqs.last().copied().unwrap_or(0);
    assert_eq!(
        own_seqs,
        (1..=last).collect::<Vec<_>>(),
        "the site's own log has gaps"
    );
    let lost = own_seqs.iter().filter(|s| !covered.contains(s)).count() as u64;
    // Each held seq inside a record's range is counted once by the range and once as held; merged
    // counts only the others: together they are the covered seqs exactly when nothing is doubled.
    let doubled = (merged + held_seqs.len() as u64).saturating_sub(covered.len() as u64);
    (lost, doubled)
}
