//! A throw-away PostgreSQL cluster for tests (issue 12 §2): `initdb` into a temporary directory and
//! `pg_ctl start` on a free port of 127.0.0.1, as an unprivileged user when the tests run as root
//! (PostgreSQL refuses to run as root), never the system's cluster. One cluster per test process,
//! stopped and removed when the process exits; each test takes a database of its own.
//!
//! Used by `jiceng-tests` and, through `#[path]`, by the server's own tests (std only).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    run_as: Option<String>,
}

static CLUSTER: OnceLock<Result<PgCluster, String>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);
/// The superuser the cluster is made with (no password: local trust, 127.0.0.1 only).
const SUPERUSER: &str = "jiceng";

/// The directory of PostgreSQL's server programs (Debian keeps them out of PATH).
fn server_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("JICENG_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

impl PgCluster {
    /// The process's cluster, started at the first call; an error says how to get PostgreSQL.
    pub fn shared() -> Result<&'static PgCluster, String> {
        CLUSTER
            .get_or_init(|| {
                let cluster = PgCluster::start()?;
                // Stopped when the test process exits (the harness exits through libc's exit).
                extern "C" fn stop_at_exit() {
                    if let Some(Ok(cluster)) = CLUSTER.get() {
                        cluster.stop();
                    }
                }
                unsafe extern "C" {
                    fn atexit(f: extern "C" fn()) -> i32;
                }
                // SAFETY: registers a plain function without arguments, as atexit(3) expects.
                unsafe {
                    atexit(stop_at_exit);
                }
                Ok(cluster)
            })
            .as_ref()
            .map_err(|e| e.clone())
    }

    fn start() -> Result<PgCluster, String> {
        let bin = server_bin().ok_or(
            "PostgreSQL's server programs were not found under /usr/lib/postgresql/*/bin: \
             install them (apt-get install postgresql) or set JICENG_PG_BIN",
        )?;
        let run_as = if is_root() {
            Some(std::env::var("JICENG_PG_USER").unwrap_or_else(|_| "postgres".to_string()))
        } else {
            None
        };
        let dir =
            std::env::temp_dir().join(format!("jiceng-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let cluster = PgCluster {
            dir,
            bin,
            port: free_port(),
            run_as,
        };
        if let Some(user) = &cluster.run_as {
            let status = Command::new("chown")
                .arg("-R")
                .arg(user)
                .arg(&cluster.dir)
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "cannot give {} to user {user} (set JICENG_PG_USER to an unprivileged user)",
                    cluster.dir.display()
                ));
            }
        }
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--no-sync",
                "--no-locale",
                "-E",
                "UTF8",
            ],
        )?;
        // JICENG_PG_OPTIONS: more `-c name=value` settings, for trying a setting out in the benches.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB {}",
            cluster.port,
            path_str(&cluster.dir),
            std::env::var("JICENG_PG_OPTIONS").unwrap_or_default()
        );
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&cluster.dir.join("server.log")),
                "-o",
                &options,
                "-w",
                "start",
            ],
        )?;
        Ok(cluster)
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let binary = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(&binary);
                c
            }
            None => Command::new(&binary),
        };
        // Under the tests' moved date (faketime's preload) PostgreSQL still runs on the real clock:
        // the master never takes a time from it.
        command
            .args(args)
            .current_dir(&self.dir)
            .env_remove("LD_PRELOAD")
            .env_remove("FAKETIME");
        let out = command
            .output()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    /// A new empty database of this cluster; its URL.
    pub fn fresh_database(&self, label: &str) -> Result<String, String> {
        let name = format!(
            "{}_{}",
            label
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
                .to_lowercase(),
            DATABASES.fetch_add(1, Ordering::SeqCst)
        );
        self.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                &name,
            ],
        )?;
        Ok(self.url(&name))
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    fn stop(&self) {
        let data = self.dir.join("data");
        let _ = self.run(
            "pg_ctl",
            &["-D", path_str(&data), "-m", "immediate", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}
