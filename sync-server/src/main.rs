//! `jiceng-server`: `serve` the sync API, or `admin …` the district (org tree, sites, users, demo).

use clap::{Parser, Subcommand};
use jiceng_core::model::{OrgKind, Role};
use jiceng_server::config::{self, Layer, LogFormat, Settings};
use jiceng_server::{admin, master, now_ms};
use std::path::PathBuf;
use std::process::ExitCode;

/// The server's allocator. A profile of 200 offices pushing at once (PostgreSQL master) put 29 % of
/// the server's CPU in glibc's malloc and free: every pushed operation is decoded into a handful of
/// short strings that another thread frees, which glibc's arenas handle poorly (consolidation,
/// unlinking). mimalloc's thread-local free lists take most of that away (BENCHMARKS.md, load).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "jiceng-server",
    version,
    about = "Jiceng sync server and district administration",
    long_about = "Jiceng sync server and district administration.\n\nEvery setting is a flag, an environment variable (JICENG_…) and a key of the TOML config file (--config); a flag wins over its variable, which wins over the file, which wins over the default."
)]
struct Cli {
    /// A TOML config file whose keys are the settings' long names with `_` (db, listen, tls_cert,
    /// tls_key, max_clock_drift_minutes, consolidate_at, consolidation_dir, silent_days, log_format,
    /// log_level, oplog_dir, replica_dir, backup_dir); see packaging/server.toml.example.
    #[arg(long, env = "JICENG_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The master record: a SQLite file path (embedded backend) or postgres://… [default:
    /// jiceng-master.sqlite; JICENG_MASTER is also read]
    #[arg(long, env = "JICENG_DB", global = true)]
    db: Option<String>,
    /// Log lines as `text` or `json` (one JSON object a line, on stderr) [default: text]
    #[arg(long, env = "JICENG_LOG_FORMAT", global = true)]
    log_format: Option<String>,
    /// What to log: a level (error, warn, info, debug) or a tracing filter [default: info, or
    /// RUST_LOG when set]
    #[arg(long, env = "JICENG_LOG_LEVEL", global = true)]
    log_level: Option<String>,
    /// Where a SQLite master's audit-log segment files live [default: beside the master file, or
    /// where the master last kept them]
    #[arg(long, env = "JICENG_OPLOG_DIR", global = true)]
    oplog_dir: Option<PathBuf>,
    /// Where a PostgreSQL master's server processes keep the replica their own writes are made on,
    /// between runs (one file per process) [default: in memory, rebuilt from the whole log at the
    /// first administrative write after each start]
    #[arg(long, env = "JICENG_REPLICA_DIR", global = true)]
    replica_dir: Option<PathBuf>,
    /// Where `backup` writes (a new directory inside it) when no --to is given.
    #[arg(long, env = "JICENG_BACKUP_DIR", global = true)]
    backup_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Default)]
struct ConsolidationArgs {
    /// Where closed days are kept [default: beside a SQLite master, `<master>-consolidated`; for
    /// PostgreSQL, `jiceng-consolidated` in the working directory]
    #[arg(long, env = "JICENG_CONSOLIDATION_DIR")]
    consolidation_dir: Option<PathBuf>,
    /// A site is reported silent when nothing of it arrived for more days than this [default: 7]
    #[arg(long, env = "JICENG_SILENT_DAYS")]
    silent_days: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API (listens on 127.0.0.1 unless told otherwise).
    Serve {
        /// The address and port to listen on [default: 127.0.0.1:8470]
        #[arg(long, env = "JICENG_LISTEN")]
        listen: Option<String>,
        /// How far (minutes) an operation's clock may be ahead of the server's, or before its site
        /// was registered, before the operation is held in quarantine [default: 60]
        #[arg(long, env = "JICENG_MAX_CLOCK_DRIFT_MINUTES")]
        max_clock_drift_minutes: Option<u64>,
        /// Serve HTTPS with this certificate chain (PEM: the server's, then the district CA's).
        #[arg(long, env = "JICENG_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// The server certificate's private key (PEM).
        #[arg(long, env = "JICENG_TLS_KEY")]
        tls_key: Option<PathBuf>,
        /// When the nightly consolidation closes the day before (HH:MM, Asia/Shanghai), or `off`
        /// [default: 02:00]
        #[arg(long, env = "JICENG_CONSOLIDATE_AT")]
        consolidate_at: Option<String>,
        #[command(flatten)]
        consolidation: ConsolidationArgs,
    },
    /// Close a day now (D-1): the district's record file, the day's statistics and the
    /// reconciliation per site, into <consolidation dir>/<day>/.
    Consolidate {
        /// The day to close (YYYY-MM-DD, Asia/Shanghai); yesterday when absent.
        #[arg(long)]
        day: Option<String>,
        #[command(flatten)]
        consolidation: ConsolidationArgs,
    },
    /// Make a district CA and a server certificate signed by it (an intranet without a public CA);
    /// prints the fingerprint the desktops pin and the addresses offices enrol with.
    TlsInit {
        #[arg(long)]
        dir: std::path::PathBuf,
        /// The server's host names or IP addresses as offices reach it (repeat the flag).
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// The port the server will listen on (for the enrolment addresses).
        #[arg(long, default_value_t = 8470)]
        port: u16,
        #[arg(long, default_value = "示范区")]
        district: String,
    },
    /// Print the sync API's OpenAPI document (schema/openapi.json).
    Openapi,
    /// Back the master up into a new directory while the server runs (a consistent snapshot of the
    /// database and the audit log it indexes).
    Backup {
        /// The new directory to write [default: a new `jiceng-<UTC time>` directory in the
        /// backup_dir setting]
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Put a backup in place of the master (stop the server first). The replaced files are kept
    /// aside; every site pulls again and sends again what the backup lacks at its next sync.
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Administer the district.
    Admin {
        #[command(subcommand)]
        action: Admin,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Add an org unit: district (no parent), township (under a district), community (under a township).
    OrgAdd {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        name: String,
    },
    OrgList,
    /// Register a site (one desktop) at an org unit and print its one-time enrolment code.
    SiteAdd {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
    },
    /// Issue a new one-time enrolment code for a site (re-enrolment after a reinstall).
    SiteCode {
        #[arg(long)]
        site: String,
    },
    SiteList,
    UserAdd {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// community_clerk | judicial_officer | office_head | district_admin | procuratorate_auditor
        #[arg(long)]
        role: String,
        #[arg(long)]
        org: String,
        #[arg(long, env = "JICENG_NEW_PASSWORD")]
        password: String,
    },
    /// Alarms for the district: hash mismatches, quarantined operations, clocks.
    Alarms,
    /// Every operation held in quarantine, with its code, reasons and status.
    Quarantine,
    /// Release (merge) or reject one quarantined operation.
    QuarantineDecide {
        #[arg(long)]
        site: String,
        #[arg(long)]
        seq: u64,
        /// release | reject
        #[arg(long)]
        decision: String,
        /// Who decides (name of the district administrator).
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Import a sync bundle an office brought on a USB stick (issue 10 §7) and write the answer
    /// bundle to take back to it; prints what was imported.
    ImportBundle {
        #[arg(long)]
        file: std::path::PathBuf,
        /// Where to write the answer bundle (default: beside the input, `<name>.answer.jcsync`).
        #[arg(long)]
        answer_to: Option<std::path::PathBuf>,
        /// Take the bundle of a revoked site (its last work, brought in after the revocation).
        #[arg(long)]
        accept_revoked: bool,
    },
    /// Reset a user's password (they must change it at next login; the reset reaches their unit's PCs).
    UserReset {
        #[arg(long)]
        username: String,
        #[arg(long, env = "JICENG_NEW_PASSWORD")]
        password: String,
    },
    /// Revoke a site (a lost laptop, a PC out of service): its token and codes stop working at once.
    SiteRevoke {
        #[arg(long)]
        site: String,
        /// Who revokes (name of the district administrator).
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Print a site's recovery code, to read out to its users when nobody can sign in on its PC (a
    /// forgotten password, an account the PC has not heard of). Every reading is recorded.
    SiteRecoveryCode {
        #[arg(long)]
        site: String,
        /// Who reads it out (name of the district administrator).
        #[arg(long)]
        by: String,
    },
    /// Create the demo district and print its sites, codes and users as JSON.
    Demo {
        /// Also a month of work (ending yesterday) at every office and workstation, written through
        /// the desktop's own write paths (the README's run command uses it).
        #[arg(long)]
        month: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match settings(&cli) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    match run(cli, settings.settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The settings in force, and whether the log filter was set by a setting (else RUST_LOG may).
struct InForce {
    settings: Settings,
    log_level_given: bool,
}

/// Merges the command line and environment (clap has put a flag over its variable) over the config
/// file over the defaults.
fn settings(cli: &Cli) -> Result<InForce, String> {
    let mut given = Layer {
        db: cli
            .db
            .clone()
            .or_else(|| std::env::var("JICENG_MASTER").ok()),
        log_format: cli.log_format.clone(),
        log_level: cli.log_level.clone(),
        oplog_dir: cli.oplog_dir.clone(),
        replica_dir: cli.replica_dir.clone(),
        backup_dir: cli.backup_dir.clone(),
        ..Layer::default()
    };
    let consolidation = match &cli.command {
        Command::Serve {
            listen,
            max_clock_drift_minutes,
            tls_cert,
            tls_key,
            consolidate_at,
            consolidation,
        } => {
            given.listen = listen.clone();
            given.max_clock_drift_minutes = *max_clock_drift_minutes;
            given.tls_cert = tls_cert.clone();
            given.tls_key = tls_key.clone();
            given.consolidate_at = consolidate_at.clone();
            Some(consolidation)
        }
        Command::Consolidate { consolidation, .. } => Some(consolidation),
        _ => None,
    };
    if let Some(c) = consolidation {
        given.consolidation_dir = c.consolidation_dir.clone();
        given.silent_days = c.silent_days;
    }
    let file = match &cli.config {
        Some(path) => config::load_file(path).map_err(|e| e.to_string())?,
        None => Layer::default(),
    };
    let log_level_given = given.log_level.is_some() || file.log_level.is_some();
    let settings = config::merge(given, file, cli.config.as_deref()).map_err(|e| e.to_string())?;
    Ok(InForce {
        settings,
        log_level_given,
    })
}

fn init_logging(in_force: &InForce) {
    let settings = &in_force.settings;
    let filter = if in_force.log_level_given {
        tracing_subscriber::EnvFilter::try_new(&settings.log_level).ok()
    } else {
        tracing_subscriber::EnvFilter::try_from_default_env().ok()
    }
    .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(config::DEFAULT_LOG_LEVEL));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn run(cli: Cli, settings: Settings) -> Result<(), String> {
    let db = settings.db.as_str();
    let oplog_dir = settings.oplog_dir.as_deref();
    let replica_dir = settings.replica_dir.as_deref();
    match &cli.command {
        Command::Openapi => {
            print!("{}", jiceng_server::api_doc::openapi_json());
            return Ok(());
        }
        Command::TlsInit {
            dir,
            hosts,
            port,
            district,
        } => {
            let made = jiceng_server::tls::init_district_ca(dir, district, hosts, *port)
                .map_err(|e| e.to_string())?;
            print_json(&made);
            return Ok(());
        }
        Command::Backup { to } => {
            let to = match (to, &settings.backup_dir) {
                (Some(to), _) => to.clone(),
                (None, Some(dir)) => dir.join(
                    chrono::Utc::now()
                        .format("jiceng-%Y%m%dT%H%M%SZ")
                        .to_string(),
                ),
                (None, None) => {
                    return Err(
                        "backup needs --to <new directory>, or a backup_dir setting (--backup-dir, JICENG_BACKUP_DIR or the config file)"
                            .to_string(),
                    )
                }
            };
            let summary = master::backup_to(db, &to).map_err(|e| e.to_string())?;
            print_json(&summary);
            return Ok(());
        }
        Command::Restore { from } => {
            let aside =
                master::restore_from(db, oplog_dir, from, now_ms()).map_err(|e| e.to_string())?;
            // Opening runs any migration the backup predates and checks its log.
            master::open_with(db, oplog_dir, replica_dir).map_err(|e| e.to_string())?;
            print_json(&serde_json::json!({
                "restored_from": from.display().to_string(),
                "replaced_files_kept_at": aside,
            }));
            return Ok(());
        }
        _ => {}
    }
    let mut master = master::open_with(db, oplog_dir, replica_dir).map_err(|e| e.to_string())?;
    match cli.command {
        Command::Serve { .. } => {
            let listen = settings.listen;
            let nightly = jiceng_server::Nightly {
                at: settings.consolidate_at.clone(),
                dir: settings.consolidation_dir.clone(),
                silent_days: settings.silent_days,
            };
            master.set_max_drift_ms(settings.max_clock_drift_minutes.saturating_mul(60_000));
            let tls = match &settings.tls {
                Some((cert, key)) => {
                    Some(jiceng_server::tls::server_config(cert, key).map_err(|e| e.to_string())?)
                }
                None => {
                    if !listen.ip().is_loopback() {
                        tracing::warn!("serving plain http on {listen}: desktops accept plain http only from 127.0.0.1; give --tls-cert and --tls-key (jiceng-server tls-init makes them)");
                    }
                    None
                }
            };
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            runtime
                .block_on(jiceng_server::serve(master, listen, tls, nightly))
                .map_err(|e| format!("cannot serve on {listen}: {e}"))
        }
        Command::Admin { action } => {
            admin_command(master.as_mut(), action).map_err(|e| e.to_string())
        }
        Command::Consolidate { day, .. } => {
            let now = now_ms();
            let day = match day {
                Some(text) => jiceng_core::shanghai::parse_date(&text)
                    .ok_or_else(|| format!("--day {text:?} is not a date (YYYY-MM-DD)"))?,
                None => jiceng_core::consolidation::last_closed_day(now),
            };
            let closed = jiceng_server::consolidate::consolidate(
                master.as_mut(),
                &settings.consolidation_dir,
                day,
                settings.silent_days,
                now,
            )
            .map_err(|e| e.to_string())?;
            print_json(&closed);
            Ok(())
        }
        Command::Openapi
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::TlsInit { .. } => Ok(()),
    }
}

fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Keeps a change made on the command line in the district's audit (issue 13 §3), under the
/// operating-system user who ran it.
fn audit_cli(
    master: &mut dyn master::MasterStore,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), jiceng_server::error::ServerError> {
    let by = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "command line".to_string());
    master.record_admin_action(&master::AdminActionRecord {
        at_ms: now_ms(),
        via_site: jiceng_server::directory_admin::VIA_CLI.to_string(),
        by_user_id: String::new(),
        by,
        action: action.to_string(),
        target: target.to_string(),
        detail: detail.to_string(),
    })
}

fn admin_command(
    master: &mut dyn master::MasterStore,
    action: Admin,
) -> Result<(), jiceng_server::error::ServerError> {
    use jiceng_server::error::ServerError;
    match action {
        Admin::OrgAdd { kind, parent, name } => {
            let kind = OrgKind::from_code(&kind).ok_or_else(|| {
                ServerError::BadRequest("kind must be district, township or community".to_string())
            })?;
            let id = master.add_org_unit(parent.as_deref(), kind, &name)?;
            audit_cli(
                master,
                "add_org_unit",
                &id,
                &format!("{} {name}", kind.code()),
            )?;
            println!("{id}");
        }
        Admin::OrgList => print_json(&master.org_units()?),
        Admin::SiteAdd { org, name } => {
            let (site_id, code) = master.add_site(&org, &name, now_ms())?;
            audit_cli(master, "add_site", &site_id, &name)?;
            print_json(&serde_json::json!({ "site_id": site_id, "enrolment_code": code }));
        }
        Admin::SiteCode { site } => {
            let code = master.new_enrolment_code(&site, now_ms())?;
            audit_cli(master, "new_enrolment_code", &site, "")?;
            println!("{code}")
        }
        Admin::SiteList => print_json(&master.sites()?),
        Admin::UserAdd {
            username,
            display_name,
            role,
            org,
            password,
        } => {
            let role = Role::from_code(&role)
                .ok_or_else(|| ServerError::BadRequest(format!("unknown role {role}")))?;
            let id = master.add_user(&username, &display_name, role, &org, &password)?;
            audit_cli(
                master,
                "add_user",
                &id,
                &format!("{username} ({display_name}) as {}", role.code()),
            )?;
            println!("{id}");
        }
        Admin::Alarms => print_json(&master.alarms()?),
        Admin::Quarantine => print_json(&master.quarantine()?),
        Admin::QuarantineDecide {
            site,
            seq,
            decision,
            by,
            note,
        } => {
            // The CLI runs on the server with the district's authority.
            let district = master::SiteAuth {
                site_id: "admin-cli".to_string(),
                org_unit_id: String::new(),
                kind: OrgKind::District,
                scope: Default::default(),
                ancestors: Vec::new(),
                created_at_ms: 0,
            };
            let decision = jiceng_core::wire::QuarantineDecision {
                site_id: site,
                site_seq: seq,
                decision,
                decided_by: by,
                note,
            };
            print_json(&master.decide_quarantine(&district, &decision, now_ms())?);
        }
        Admin::UserReset { username, password } => {
            let id = master.reset_password(&username, &password, now_ms())?;
            audit_cli(master, "reset_password", &id, "")?;
            println!("{id}")
        }
        Admin::SiteRevoke { site, by, reason } => {
            let revoked = master.revoke_site(&site, &by, &reason, now_ms())?;
            jiceng_server::directory_admin::record_revocation(
                master,
                jiceng_server::directory_admin::VIA_CLI,
                &by,
                &site,
                &reason,
                now_ms(),
            )?;
            print_json(&revoked)
        }
        Admin::SiteRecoveryCode { site, by } => {
            println!("{}", master.read_recovery_code(&site, &by, now_ms())?)
        }
        Admin::ImportBundle {
            file,
            answer_to,
            accept_revoked,
        } => {
            let bytes = std::fs::read(&file).map_err(|e| {
                ServerError::BadRequest(format!("cannot read {}: {e}", file.display()))
            })?;
            let bundle = jiceng_core::bundle::open_unchecked(&bytes)?;
            let imported =
                jiceng_server::bundle::import(master, &bundle, None, accept_revoked, now_ms())?;
            let to = answer_to.unwrap_or_else(|| {
                let stem = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "bundle".to_string());
                file.with_file_name(format!(
                    "{stem}.answer.{}",
                    jiceng_core::bundle::BUNDLE_EXTENSION
                ))
            });
            let answer = serde_json::to_vec_pretty(&imported.answer)
                .map_err(|e| ServerError::Store(e.to_string()))?;
            std::fs::write(&to, answer).map_err(|e| {
                ServerError::BadRequest(format!("cannot write {}: {e}", to.display()))
            })?;
            print_json(&serde_json::json!({
                "site_id": imported.site_id,
                "site_name": imported.site_name,
                "acknowledged": imported.acknowledged,
                "duplicates": imported.duplicates,
                "held": imported.held,
                "delivered": imported.delivered,
                "answer": to.display().to_string(),
            }));
        }
        Admin::Demo { month: false } => print_json(&admin::seed_demo(master, now_ms())?),
        Admin::Demo { month: true } => print_json(&jiceng_server::demo_month::seed_demo_month(
            master,
            now_ms(),
        )?),
    }
    Ok(())
}
