//! `jiceng-server`: `serve` the sync API, or `admin …` the district (org tree, sites, users, demo).

use clap::{Parser, Subcommand};
use jiceng_core::model::{OrgKind, Role};
use jiceng_server::{admin, master, now_ms};
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "jiceng-server",
    version,
    about = "Jiceng sync server and district administration"
)]
struct Cli {
    /// The master record: a SQLite file path (embedded backend).
    #[arg(
        long,
        env = "JICENG_MASTER",
        default_value = "jiceng-master.sqlite",
        global = true
    )]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ConsolidationArgs {
    /// Where closed days are kept (default: beside a SQLite master, `<master>-consolidated`; for
    /// PostgreSQL, `jiceng-consolidated` in the working directory).
    #[arg(long, env = "JICENG_CONSOLIDATION_DIR")]
    consolidation_dir: Option<std::path::PathBuf>,
    /// A site is reported silent when nothing of it arrived for more days than this.
    #[arg(long, env = "JICENG_SILENT_DAYS", default_value_t = jiceng_core::consolidation::DEFAULT_SILENT_DAYS)]
    silent_days: u64,
}

impl ConsolidationArgs {
    fn dir(&self, db: &str) -> std::path::PathBuf {
        if let Some(dir) = &self.consolidation_dir {
            return dir.clone();
        }
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            return std::path::PathBuf::from("jiceng-consolidated");
        }
        let file = db.strip_prefix("sqlite://").unwrap_or(db);
        std::path::PathBuf::from(format!("{file}-consolidated"))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API (listens on 127.0.0.1 unless told otherwise).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8470")]
        listen: SocketAddr,
        /// How far (minutes) an operation's clock may be ahead of the server's, or before its site
        /// was registered, before the operation is held in quarantine.
        #[arg(long, env = "JICENG_MAX_CLOCK_DRIFT_MINUTES", default_value_t = 60)]
        max_clock_drift_minutes: u64,
        /// Serve HTTPS with this certificate chain (PEM: the server's, then the district CA's).
        #[arg(long, env = "JICENG_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The server certificate's private key (PEM).
        #[arg(long, env = "JICENG_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
        /// When the nightly consolidation closes the day before (HH:MM, Asia/Shanghai), or `off`.
        #[arg(long, env = "JICENG_CONSOLIDATE_AT", default_value = jiceng_core::consolidation::DEFAULT_TIME)]
        consolidate_at: String,
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
        #[arg(long)]
        to: std::path::PathBuf,
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
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
            let summary = master::backup_to(&cli.db, to).map_err(|e| e.to_string())?;
            print_json(&summary);
            return Ok(());
        }
        Command::Restore { from } => {
            let aside = master::restore_from(&cli.db, from, now_ms()).map_err(|e| e.to_string())?;
            // Opening runs any migration the backup predates and checks its log.
            master::open(&cli.db).map_err(|e| e.to_string())?;
            print_json(&serde_json::json!({
                "restored_from": from.display().to_string(),
                "replaced_files_kept_at": aside,
            }));
            return Ok(());
        }
        _ => {}
    }
    let mut master = master::open(&cli.db).map_err(|e| e.to_string())?;
    match cli.command {
        Command::Serve {
            listen,
            max_clock_drift_minutes,
            tls_cert,
            tls_key,
            consolidate_at,
            consolidation,
        } => {
            let nightly = jiceng_server::Nightly {
                at: (consolidate_at != "off").then_some(consolidate_at),
                dir: consolidation.dir(&cli.db),
                silent_days: consolidation.silent_days,
            };
            if let Some(at) = &nightly.at {
                if jiceng_core::consolidation::next_run(now_ms(), at).is_none() {
                    return Err(format!(
                        "--consolidate-at {at:?} is not a time of day (HH:MM) nor `off`"
                    ));
                }
            }
            master.set_max_drift_ms(max_clock_drift_minutes.saturating_mul(60_000));
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(
                    jiceng_server::tls::server_config(&cert, &key).map_err(|e| e.to_string())?,
                ),
                _ => {
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
        Command::Consolidate { day, consolidation } => {
            let now = now_ms();
            let day = match day {
                Some(text) => jiceng_core::shanghai::parse_date(&text)
                    .ok_or_else(|| format!("--day {text:?} is not a date (YYYY-MM-DD)"))?,
                None => jiceng_core::consolidation::last_closed_day(now),
            };
            let closed = jiceng_server::consolidate::consolidate(
                master.as_mut(),
                &consolidation.dir(&cli.db),
                day,
                consolidation.silent_days,
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
                scope: Vec::new(),
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
