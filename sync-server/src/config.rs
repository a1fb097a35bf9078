//! The server's settings (issue 14 §2): each one a flag, an environment variable (`JICENG_…`) and a
//! key of the TOML config file (`--config`, `JICENG_CONFIG`). A flag wins over its environment
//! variable (clap reads both into one [`Layer`]), which wins over the file, which wins over the
//! default. This module merges the layers and checks the values; it reads no clock and no
//! environment.
//!
//! Relative paths in the file are taken from the file's directory (a unit started from `/` and an
//! administrator in a shell find the same files).

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the service listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";
pub const DEFAULT_DB: &str = "jiceng-master.sqlite";
pub const DEFAULT_MAX_CLOCK_DRIFT_MINUTES: u64 = 60;
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// Every setting, as one source gives it (absent: not given there). The config file's keys are its
/// fields; any other key is an error.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// The master: a SQLite file path, or `postgres://…`.
    pub db: Option<String>,
    pub listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub max_clock_drift_minutes: Option<u64>,
    /// HH:MM (Asia/Shanghai) or `off`.
    pub consolidate_at: Option<String>,
    pub consolidation_dir: Option<PathBuf>,
    pub silent_days: Option<u64>,
    /// `text` or `json`.
    pub log_format: Option<String>,
    /// A tracing filter: `info`, `warn`, `jiceng_server=debug,info`, …
    pub log_level: Option<String>,
    /// Where a SQLite master's audit-log segment files live (default: beside the master file).
    pub oplog_dir: Option<PathBuf>,
    /// Where a PostgreSQL master's server processes keep their admin replicas between runs.
    pub replica_dir: Option<PathBuf>,
    /// Where `backup` writes when no `--to` is given (a new dated directory inside it).
    pub backup_dir: Option<PathBuf>,
}

impl Layer {
    /// Each setting of `self`, else of `below`.
    pub fn over(self, below: Layer) -> Layer {
        Layer {
            db: self.db.or(below.db),
            listen: self.listen.or(below.listen),
            tls_cert: self.tls_cert.or(below.tls_cert),
            tls_key: self.tls_key.or(below.tls_key),
            max_clock_drift_minutes: self
                .max_clock_drift_minutes
                .or(below.max_clock_drift_minutes),
            consolidate_at: self.consolidate_at.or(below.consolidate_at),
            consolidation_dir: self.consolidation_dir.or(below.consolidation_dir),
            silent_days: self.silent_days.or(below.silent_days),
            log_format: self.log_format.or(below.log_format),
            log_level: self.log_level.or(below.log_level),
            oplog_dir: self.oplog_dir.or(below.oplog_dir),
            replica_dir: self.replica_dir.or(below.replica_dir),
            backup_dir: self.backup_dir.or(below.backup_dir),
        }
    }

    /// Relative paths made relative to `base` (the config file's directory).
    fn rebased(mut self, base: &Path) -> Layer {
        let rebase = |p: &mut Option<PathBuf>| {
            if let Some(path) = p.as_mut() {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        };
        rebase(&mut self.tls_cert);
        rebase(&mut self.tls_key);
        rebase(&mut self.consolidation_dir);
        rebase(&mut self.oplog_dir);
        rebase(&mut self.replica_dir);
        rebase(&mut self.backup_dir);
        if let Some(db) = self.db.as_mut() {
            if !is_postgres(db) {
                let (scheme, file) = match db.strip_prefix("sqlite://") {
                    Some(file) => ("sqlite://", file),
                    None => ("", db.as_str()),
                };
                if Path::new(file).is_relative() {
                    *db = format!("{scheme}{}", base.join(file).display());
                }
            }
        }
        self
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {message}")]
    Read { path: String, message: String },
    #[error("the config file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("{key} = {value:?} (from {origin}): {why}")]
    BadValue {
        key: &'static str,
        value: String,
        origin: String,
        why: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The settings in force, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub db: String,
    pub listen: SocketAddr,
    /// Certificate chain and key: both or neither.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub max_clock_drift_minutes: u64,
    /// None: `off`.
    pub consolidate_at: Option<String>,
    pub consolidation_dir: PathBuf,
    pub silent_days: u64,
    pub log_format: LogFormat,
    pub log_level: String,
    pub oplog_dir: Option<PathBuf>,
    pub replica_dir: Option<PathBuf>,
    pub backup_dir: Option<PathBuf>,
}

pub fn is_postgres(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// Reads the config file at `path`.
pub fn load_file(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_file(&text, path)
}

/// Parses a config file's text (`path` names it in errors and is the base of its relative paths).
pub fn parse_file(text: &str, path: &Path) -> Result<Layer, ConfigError> {
    let layer: Layer = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(layer.rebased(base))
}

/// Merges what the command line and environment gave (`given`) over the config file's `file`
/// (named `file_path`, if any) over the defaults, and checks every value.
pub fn merge(given: Layer, file: Layer, file_path: Option<&Path>) -> Result<Settings, ConfigError> {
    let origin = |from_file: bool| match (from_file, file_path) {
        (true, Some(path)) => path.display().to_string(),
        _ => "the command line or environment".to_string(),
    };
    let bad = |key: &'static str, value: &str, from_file: bool, why: &str| ConfigError::BadValue {
        key,
        value: value.to_string(),
        origin: origin(from_file),
        why: why.to_string(),
    };
    // Whether a checked value came from the file (for the error message).
    let from = |given_it: bool, file_has: bool| !given_it && file_has;
    let listen_from_file = from(given.listen.is_some(), file.listen.is_some());
    let consolidate_from_file = from(
        given.consolidate_at.is_some(),
        file.consolidate_at.is_some(),
    );
    let format_from_file = from(given.log_format.is_some(), file.log_format.is_some());
    let level_from_file = from(given.log_level.is_some(), file.log_level.is_some());
    let tls_from_file = from(
        given.tls_cert.is_some() || given.tls_key.is_some(),
        file.tls_cert.is_some() || file.tls_key.is_some(),
    );
    let db_from_file = from(given.db.is_some(), file.db.is_some());
    let merged = given.over(file);

    let db = merged.db.unwrap_or_else(|| DEFAULT_DB.to_string());
    if db.trim().is_empty() {
        return Err(bad("db", &db, db_from_file, "the master must be named"));
    }
    let listen_text = merged.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let listen: SocketAddr = listen_text.parse().map_err(|_| {
        bad(
            "listen",
            &listen_text,
            listen_from_file,
            "not an address and port (e.g. 127.0.0.1:8470 or 0.0.0.0:8470)",
        )
    })?;
    let tls = match (merged.tls_cert, merged.tls_key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(cert), None) => {
            return Err(bad(
                "tls_key",
                "",
                tls_from_file,
                &format!("tls_cert is {} but tls_key is missing", cert.display()),
            ))
        }
        (None, Some(key)) => {
            return Err(bad(
                "tls_cert",
                "",
                tls_from_file,
                &format!("tls_key is {} but tls_cert is missing", key.display()),
            ))
        }
    };
    let consolidate_text = merged
        .consolidate_at
        .unwrap_or_else(|| jiceng_core::consolidation::DEFAULT_TIME.to_string());
    let consolidate_at = if consolidate_text == "off" {
        None
    } else if jiceng_core::consolidation::next_run(0, &consolidate_text).is_some() {
        Some(consolidate_text)
    } else {
        return Err(bad(
            "consolidate_at",
            &consolidate_text,
            consolidate_from_file,
            "not a time of day (HH:MM) nor `off`",
        ));
    };
    let consolidation_dir = merged
        .consolidation_dir
        .unwrap_or_else(|| default_consolidation_dir(&db));
    let log_format = match merged.log_format.as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            return Err(bad(
                "log_format",
                other,
                format_from_file,
                "must be `text` or `json`",
            ))
        }
    };
    let log_level = merged
        .log_level
        .unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_string());
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log_level) {
        return Err(bad(
            "log_level",
            &log_level,
            level_from_file,
            &format!("not a log filter (e.g. info, warn, jiceng_server=debug): {e}"),
        ));
    }
    Ok(Settings {
        db,
        listen,
        tls,
        max_clock_drift_minutes: merged
            .max_clock_drift_minutes
            .unwrap_or(DEFAULT_MAX_CLOCK_DRIFT_MINUTES),
        consolidate_at,
        consolidation_dir,
        silent_days: merged
            .silent_days
            .unwrap_or(jiceng_core::consolidation::DEFAULT_SILENT_DAYS),
        log_format,
        log_level,
        oplog_dir: merged.oplog_dir,
        replica_dir: merged.replica_dir,
        backup_dir: merged.backup_dir,
    })
}

/// Beside a SQLite master, `<master>-consolidated`; for PostgreSQL, `jiceng-consolidated` in the
/// working directory.
pub fn default_consolidation_dir(db: &str) -> PathBuf {
    if is_postgres(db) {
        return PathBuf::from("jiceng-consolidated");
    }
    let file = db.strip_prefix("sqlite://").unwrap_or(db);
    PathBuf::from(format!("{file}-consolidated"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Layer {
        parse_file(text, Path::new("/etc/jiceng/server.toml")).expect("valid file")
    }

    #[test]
    fn defaults_when_nothing_is_given() {
        let s = merge(Layer::default(), Layer::default(), None).expect("defaults");
        assert_eq!(s.db, DEFAULT_DB);
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.tls, None);
        assert_eq!(s.max_clock_drift_minutes, 60);
        assert_eq!(s.consolidate_at.as_deref(), Some("02:00"));
        assert_eq!(
            s.consolidation_dir,
            PathBuf::from("jiceng-master.sqlite-consolidated")
        );
        assert_eq!(s.silent_days, 7);
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.log_level, "info");
        assert_eq!((s.oplog_dir, s.backup_dir), (None, None));
        assert_eq!(
            s.replica_dir, None,
            "the admin replica in memory unless asked"
        );
    }

    #[test]
    fn the_command_line_wins_over_the_file_which_wins_over_the_defaults() {
        let from_file = file(
            "db = \"/srv/jiceng/master.sqlite\"\nlisten = \"0.0.0.0:9000\"\nlog_format = \"json\"\n\
             max_clock_drift_minutes = 15\nconsolidate_at = \"off\"\noplog_dir = \"oplog\"\n\
             replica_dir = \"replica\"\n",
        );
        let given = Layer {
            listen: Some("127.0.0.1:9100".to_string()),
            max_clock_drift_minutes: Some(5),
            ..Layer::default()
        };
        let s =
            merge(given, from_file, Some(Path::new("/etc/jiceng/server.toml"))).expect("merged");
        assert_eq!(s.listen.to_string(), "127.0.0.1:9100");
        assert_eq!(s.max_clock_drift_minutes, 5);
        assert_eq!(s.db, "/srv/jiceng/master.sqlite");
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.consolidate_at, None);
        // A relative path in the file is the file's directory's.
        assert_eq!(s.oplog_dir, Some(PathBuf::from("/etc/jiceng/oplog")));
        assert_eq!(s.replica_dir, Some(PathBuf::from("/etc/jiceng/replica")));
        assert_eq!(
            s.consolidation_dir,
            PathBuf::from("/srv/jiceng/master.sqlite-consolidated")
        );
        assert_eq!(s.silent_days, 7);
    }

    #[test]
    fn an_unknown_key_names_the_key_and_the_file() {
        let e = parse_file("db = \"x\"\nlisten_port = 8470\n", Path::new("/etc/a.toml"))
            .expect_err("unknown key");
        let text = e.to_string();
        assert!(text.contains("listen_port"), "{text}");
        assert!(text.contains("/etc/a.toml"), "{text}");
    }

    #[test]
    fn a_bad_value_names_its_key() {
        // A type the key does not take: the parser's message shows the key's line.
        let e = parse_file("silent_days = \"seven\"\n", Path::new("/etc/a.toml"))
            .expect_err("wrong type");
        assert!(e.to_string().contains("silent_days"), "{e}");
        for (text, key) in [
            ("listen = \"here\"", "listen"),
            ("log_format = \"xml\"", "log_format"),
            ("consolidate_at = \"25:99\"", "consolidate_at"),
            ("log_level = \"info,=,[\"", "log_level"),
            ("tls_cert = \"a.pem\"", "tls_key"),
        ] {
            let path = Path::new("/etc/jiceng/server.toml");
            let e = merge(Layer::default(), file(text), Some(path)).expect_err(text);
            let message = e.to_string();
            assert!(message.starts_with(key), "{text}: {message}");
            assert!(message.contains("/etc/jiceng/server.toml"), "{message}");
        }
        let e = merge(
            Layer {
                listen: Some("nowhere".to_string()),
                ..Layer::default()
            },
            Layer::default(),
            None,
        )
        .expect_err("bad flag");
        assert!(e.to_string().contains("command line or environment"), "{e}");
    }

    #[test]
    fn a_postgres_master_is_not_rebased() {
        let layer = file("db = \"postgres://jiceng@localhost/jiceng\"");
        assert_eq!(
            layer.db.as_deref(),
            Some("postgres://jiceng@localhost/jiceng")
        );
        let layer = file("db = \"master.sqlite\"");
        assert_eq!(layer.db.as_deref(), Some("/etc/jiceng/master.sqlite"));
    }
}
