//! Issue 14 §2, the server as a service: the real `jiceng-server` binary started from its TOML config
//! file (a master, its audit log in a directory of its own, JSON logs), its liveness and readiness
//! endpoints, a flag and an environment variable over the file, an unknown key refused, `--version`.
//! Runs on the SQLite master (the config names a file).

use jiceng_tests::{free_port, server_binary, temp_dir};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A `jiceng-server serve` child, killed when dropped (a failing assertion included).
struct Serving {
    child: Child,
    log: PathBuf,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serving {
    /// Starts `jiceng-server <args…>` with its standard error into `log` and `env` set.
    fn start(args: &[&str], env: &[(&str, &str)], log: PathBuf) -> Serving {
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(server_binary());
        command
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(stderr);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start jiceng-server serve");
        Serving { child, log }
    }

    /// Waits for `GET /api/v1/ready` to answer 200 on `port`.
    fn wait_ready(&mut self, port: u16) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some((200, body)) = get(port, "/api/v1/ready") {
                return body;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited ({status}): {}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "not ready on port {port} in 60 s: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1: (status, JSON body), None when nothing answers yet.
fn get(port: u16, path: &str) -> Option<(u16, Value)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split(' ').nth(1)?.parse().ok()?;
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(server_binary());
    command.args(args).env_remove("RUST_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run jiceng-server")
}

fn text(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn the_server_runs_from_its_config_file() {
    let dir = temp_dir("server-config");
    let master = dir.join("master.sqlite");
    let oplog = dir.join("oplog");
    let closed = dir.join("closed");
    let backups = dir.join("backups");
    let port = free_port();
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!(
            "# written by the test\n\
             db = \"{}\"\n\
             listen = \"127.0.0.1:{port}\"\n\
             log_format = \"json\"\n\
             log_level = \"info\"\n\
             consolidate_at = \"off\"\n\
             consolidation_dir = \"{}\"\n\
             silent_days = 3\n\
             max_clock_drift_minutes = 30\n\
             oplog_dir = \"oplog\"\n\
             backup_dir = \"{}\"\n",
            text(&master),
            text(&closed),
            text(&backups),
        ),
    )
    .expect("write config");
    let config_arg = text(&config).to_string();

    // The demo district into the master the file names; its audit log in the file's oplog_dir
    // (relative to the file's directory).
    let demo = run(&["--config", &config_arg, "admin", "demo"], &[]);
    assert!(
        demo.status.success(),
        "admin demo: {}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let demo: Value = serde_json::from_slice(&demo.stdout).expect("demo JSON");
    assert!(demo["sites"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(master.exists());
    assert!(
        oplog.join("master.sqlite-oplog-000001").exists(),
        "the audit log is in the oplog dir"
    );
    assert!(!dir.join("master.sqlite-oplog-000001").exists());
    // Opened without the setting, the master still finds its log (it recorded the directory).
    let sites = run(&["--db", text(&master), "admin", "site-list"], &[]);
    assert!(
        sites.status.success(),
        "site-list without oplog_dir: {}",
        String::from_utf8_lossy(&sites.stderr)
    );

    // Served from the file alone.
    let mut serving = Serving::start(
        &["--config", &config_arg, "serve"],
        &[],
        dir.join("serve.log"),
    );
    let ready = serving.wait_ready(port);
    assert_eq!(ready["status"], "ready");
    let (status, health) = get(port, "/api/v1/health").expect("health answers");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    // Its log lines are JSON objects, the listening line among them.
    let log = serving.log_text();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("127.0.0.1:{port}")))),
        "{log}"
    );
    // A backup without --to goes into the file's backup_dir, segments from the oplog dir.
    let backup = run(&["--config", &config_arg, "backup"], &[]);
    assert!(
        backup.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let summary: Value = serde_json::from_slice(&backup.stdout).expect("backup JSON");
    let backup_dir = PathBuf::from(summary["directory"].as_str().expect("directory"));
    assert!(backup_dir.starts_with(&backups), "{summary}");
    assert!(summary["log_segments"].as_u64().is_some_and(|n| n >= 1));
    assert!(backup_dir.join("master.sqlite-oplog-000001").exists());
    drop(serving);

    // A flag wins over the file: another port.
    let flag_port = free_port();
    let flag_listen = format!("127.0.0.1:{flag_port}");
    let mut serving = Serving::start(
        &["--config", &config_arg, "serve", "--listen", &flag_listen],
        &[],
        dir.join("serve-flag.log"),
    );
    serving.wait_ready(flag_port);
    assert!(
        get(port, "/api/v1/health").is_none(),
        "the file's port is unused"
    );
    drop(serving);

    // An environment variable wins over the file (and the config file itself may come from one).
    let env_port = free_port();
    let env_listen = format!("127.0.0.1:{env_port}");
    let mut serving = Serving::start(
        &["serve"],
        &[
            ("JICENG_CONFIG", &config_arg),
            ("JICENG_LISTEN", &env_listen),
            ("JICENG_LOG_FORMAT", "text"),
        ],
        dir.join("serve-env.log"),
    );
    serving.wait_ready(env_port);
    let log = serving.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("listening") && serde_json::from_str::<Value>(l).is_err()),
        "text log lines from JICENG_LOG_FORMAT: {log}"
    );
    drop(serving);

    // A key the file does not know: refused, naming the key and the file.
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        format!("db = \"{}\"\nlisten_port = 8470\n", text(&master)),
    )
    .expect("write bad config");
    let refused = run(&["--config", text(&bad), "serve"], &[]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("listen_port"), "{message}");
    assert!(message.contains(text(&bad)), "{message}");
    // A bad value names its key.
    std::fs::write(&bad, "log_format = \"xml\"\n").expect("write bad config");
    let refused = run(&["--config", text(&bad), "serve"], &[]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("log_format"), "{message}");

    // --version prints the workspace's version.
    let version = run(&["--version"], &[]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("jiceng-server {}", env!("CARGO_PKG_VERSION"))
    );

    let _ = std::fs::remove_dir_all(&dir);
}

/// A master whose log stays beside it (made before issue 14) keeps opening; moved by hand into an
/// oplog directory and started with the setting, it records the move; asked for a directory its
/// segments are not in, it refuses and names both places.
#[test]
fn an_existing_master_log_moves_only_when_its_segments_are_there() {
    let dir = temp_dir("server-oplog-move");
    let master = dir.join("master.sqlite");
    let db = text(&master).to_string();
    let demo = run(&["--db", &db, "admin", "demo"], &[]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let beside = dir.join("master.sqlite-oplog-000001");
    assert!(
        beside.exists(),
        "the default keeps the log beside the master"
    );

    let elsewhere = dir.join("elsewhere");
    let refused = run(
        &[
            "--db",
            &db,
            "--oplog-dir",
            text(&elsewhere),
            "admin",
            "site-list",
        ],
        &[],
    );
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("move the files"), "{message}");
    assert!(beside.exists(), "nothing moved");

    std::fs::create_dir_all(&elsewhere).expect("oplog dir");
    std::fs::rename(&beside, elsewhere.join("master.sqlite-oplog-000001")).expect("move");
    let moved = run(
        &[
            "--db",
            &db,
            "--oplog-dir",
            text(&elsewhere),
            "admin",
            "site-list",
        ],
        &[],
    );
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    // From now on, opened without the setting, it finds the log where it was moved.
    let again = run(&["--db", &db, "admin", "site-list"], &[]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A backup holds its segments beside its own file; restored, they go back where the master
    // keeps its log, the replaced ones kept aside there.
    let backup_dir = dir.join("backup");
    let backup = run(&["--db", &db, "backup", "--to", text(&backup_dir)], &[]);
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(backup_dir.join("master.sqlite-oplog-000001").exists());
    let restored = run(&["--db", &db, "restore", "--from", text(&backup_dir)], &[]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(elsewhere.join("master.sqlite-oplog-000001").exists());
    assert!(!dir.join("master.sqlite-oplog-000001").exists());
    let aside = std::fs::read_dir(&elsewhere)
        .expect("oplog dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".replaced-"))
        .count();
    assert_eq!(
        aside, 1,
        "the replaced segment is kept aside in the oplog dir"
    );
    let after = run(&["--db", &db, "admin", "site-list"], &[]);
    assert!(
        after.status.success(),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    assert_eq!(
        after.stdout, again.stdout,
        "the same sites after the restore"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
