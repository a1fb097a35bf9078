//! The local SQLite store of one site (and, on the server, of the master record).
//!
//! All SQL of `core` lives under this module. Domain tables are written only by [`merge_sql`], which is
//! reached either from the local write path ([`write`], which logs each operation first, in the same
//! transaction) or from operations received through sync.

mod accounts;
mod acked;
pub mod admission;
mod adopt;
mod appeal_reads;
pub mod appeals;
mod assessments;
mod casefile;
mod cases;
mod dashboard;
mod directory;
pub mod encryption;
mod entries;
mod funds;
mod input;
mod investigation;
mod leave;
mod location;
pub mod mediation;
pub mod merge_sql;
mod meta;
mod oplog_entry;
mod oversight;
pub mod page_cache;
mod people;
mod quarantine;
mod residents;
mod review;
mod rules;
mod scope_exit;
pub use rules::DeadlineSettings;
mod snapshot;
mod stats;
mod sync_state;
mod tasks;
mod transfer;
mod user_admin;
pub mod volunteers;
mod write;

pub use accounts::{locked_until, AccountState, UnitAccount};
pub use adopt::Adopted;
pub use appeal_reads::AppealDetail;
pub use directory::NewUser;
pub use merge_sql::MergeStats;
pub use meta::SiteIdentity;
pub use scope_exit::Reinitialised;
pub use write::FieldChange as WriteChange;

use crate::error::{CoreError, Result};
use crate::hlc::Hlc;
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;

/// Wall clock in milliseconds since the Unix epoch. Injectable so tests can run a PC with a wrong clock.
pub type WallClock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> WallClock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    })
}

/// Offsets to the server clock below this are network noise, not a wrong PC clock.
const IGNORED_CLOCK_OFFSET_MS: i64 = 2 * 60 * 1000;

/// Forward-only migrations, embedded from `schema/migrations/`.
const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        include_str!("../../../schema/migrations/0001_site_store.sql"),
    ),
    (
        2,
        include_str!("../../../schema/migrations/0002_case_entries.sql"),
    ),
    (
        3,
        include_str!("../../../schema/migrations/0003_case_intake.sql"),
    ),
    (4, include_str!("../../../schema/migrations/0004_leave.sql")),
    (
        5,
        include_str!("../../../schema/migrations/0005_assessment.sql"),
    ),
    (
        6,
        include_str!("../../../schema/migrations/0006_residents.sql"),
    ),
    (
        7,
        include_str!("../../../schema/migrations/0007_appeals.sql"),
    ),
    (
        8,
        include_str!("../../../schema/migrations/0008_sealed_minors.sql"),
    ),
    (
        9,
        include_str!("../../../schema/migrations/0009_case_address.sql"),
    ),
    (
        10,
        include_str!("../../../schema/migrations/0010_person_merge.sql"),
    ),
    (
        11,
        include_str!("../../../schema/migrations/0011_case_file.sql"),
    ),
    (
        12,
        include_str!("../../../schema/migrations/0012_electronic_location.sql"),
    ),
    (
        13,
        include_str!("../../../schema/migrations/0013_mediation.sql"),
    ),
    (
        14,
        include_str!("../../../schema/migrations/0014_admission.sql"),
    ),
    (
        15,
        include_str!("../../../schema/migrations/0015_volunteers.sql"),
    ),
    (
        16,
        include_str!("../../../schema/migrations/0016_person_index.sql"),
    ),
    (
        17,
        include_str!("../../../schema/migrations/0017_community_funds.sql"),
    ),
    (
        18,
        include_str!("../../../schema/migrations/0018_resident_paging.sql"),
    ),
    (
        20,
        include_str!("../../../schema/migrations/0020_transfer.sql"),
    ),
    (
        21,
        include_str!("../../../schema/migrations/0021_investigation.sql"),
    ),
    (
        22,
        include_str!("../../../schema/migrations/0022_local_settings.sql"),
    ),
    (
        23,
        include_str!("../../../schema/migrations/0023_conflict_review.sql"),
    ),
    (
        24,
        include_str!("../../../schema/migrations/0024_case_officer.sql"),
    ),
    (
        25,
        include_str!("../../../schema/migrations/0025_procuratorate.sql"),
    ),
    (
        26,
        include_str!("../../../schema/migrations/0026_priority_groups.sql"),
    ),
    (
        27,
        include_str!("../../../schema/migrations/0027_site_directory.sql"),
    ),
    (
        28,
        include_str!("../../../schema/migrations/0028_sync_quarantine.sql"),
    ),
    (
        29,
        include_str!("../../../schema/migrations/0029_divergent_ops.sql"),
    ),
    (
        30,
        include_str!("../../../schema/migrations/0030_reinitialise.sql"),
    ),
    (
        31,
        include_str!("../../../schema/migrations/0031_auth_events.sql"),
    ),
    (
        32,
        include_str!("../../../schema/migrations/0032_appeal_reads.sql"),
    ),
    (
        33,
        include_str!("../../../schema/migrations/0033_name_search.sql"),
    ),
    (
        34,
        include_str!("../../../schema/migrations/0034_oplog_binary.sql"),
    ),
    (
        35,
        include_str!("../../../schema/migrations/0035_oplog_acked.sql"),
    ),
];

/// Migrations whose rows need Rust (a derived column's function) after their SQL, in the same
/// transaction.
fn after_migration(conn: &Connection, version: u32) -> Result<()> {
    if version == 33 {
        merge_sql::refill_derived(conn)?;
    }
    Ok(())
}

/// The schema (the last migration) this build's stores have; a site sends it with every pull so that
/// the server never sends it rows of a table it does not know (issue 10 §4).
pub const STORE_SCHEMA: u32 = 35;
/// The schema of the previous release's stores: what a site that does not say is assumed to have.
pub const PREVIOUS_RELEASE_SCHEMA: u32 = 27;

pub struct Store {
    conn: Connection,
    clock: WallClock,
    /// The deadline engine in force here (shipped table + the district's overrides), rebuilt when the
    /// overrides change (store::rules).
    engine_cache: std::cell::RefCell<Option<(String, std::sync::Arc<crate::deadlines::Engine>)>>,
    /// What a running sync is doing (issue 10 §2: the status bar says it), never stored.
    sync_activity: std::cell::RefCell<Option<String>>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                CoreError::Corrupt(format!("cannot create data dir {}: {e}", dir.display()))
            })?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Store::init(conn, system_clock())
    }

    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?, system_clock())
    }

    /// Wraps an existing connection (the server's master uses this with its own extra tables).
    pub fn from_connection(conn: Connection) -> Result<Store> {
        Store::init(conn, system_clock())
    }

    pub fn with_clock(mut self, clock: WallClock) -> Store {
        self.clock = clock;
        self
    }

    /// Replaces the wall clock of an open store (the server's demo writes its directory as of the
    /// month it pretends to have run).
    pub fn set_clock(&mut self, clock: WallClock) {
        self.clock = clock;
    }

    fn init(conn: Connection, clock: WallClock) -> Result<Store> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mut store = Store {
            conn,
            clock,
            engine_cache: std::cell::RefCell::new(None),
            sync_activity: std::cell::RefCell::new(None),
        };
        store.migrate()?;
        store.ensure_instance_id()?;
        Ok(store)
    }

    /// Test hook (issue 10 §4): a store as an older release made it, migrated only up to `version`,
    /// to check that the current release opens it with every record intact.
    #[doc(hidden)]
    pub fn open_at_schema(path: &Path, version: u32) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let mut store = Store {
            conn,
            clock: system_clock(),
            engine_cache: std::cell::RefCell::new(None),
            sync_activity: std::cell::RefCell::new(None),
        };
        store.migrate_to(version)?;
        if version < 35 {
            // This build's reads ask `oplog_acked` (schema 35) for the lists' "not yet sent" mark. A
            // table of the connection's temp schema answers them and leaves the file as the older
            // release had it.
            store.conn.execute_batch(
                "CREATE TEMP TABLE oplog_acked (first_site_seq INTEGER PRIMARY KEY, last_site_seq INTEGER NOT NULL)",
            )?;
        }
        store.ensure_instance_id()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        self.migrate_to(u32::MAX)
    }

    fn migrate_to(&mut self, target: u32) -> Result<()> {
        let current: u32 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (version, sql) in MIGRATIONS {
            if *version > current && *version <= target {
                let tx = self.conn.transaction()?;
                tx.execute_batch(sql)?;
                after_migration(&tx, *version)?;
                tx.pragma_update(None, "user_version", version)?;
                tx.commit()?;
            }
        }
        Ok(())
    }

    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// This PC's wall clock, in Unix milliseconds.
    pub fn wall_millis(&self) -> u64 {
        (self.clock)()
    }

    /// The wall clock corrected by the offset to the server measured at the last sync, so a PC whose date
    /// is wrong still stamps its writes near the true time (ARCHITECTURE.md "Clock safety"). Small
    /// offsets (network latency) are ignored.
    pub fn corrected_wall_millis(&self) -> Result<u64> {
        let offset = meta::get(&self.conn, meta::CLOCK_OFFSET_MS)?
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        let wall = self.wall_millis() as i64;
        if offset.abs() < IGNORED_CLOCK_OFFSET_MS {
            return Ok(wall as u64);
        }
        Ok(wall.saturating_add(offset).max(0) as u64)
    }

    /// Records the server's clock from a sync response; returns the offset (server minus this PC), ms.
    pub fn record_server_time(&mut self, server_time_ms: u64) -> Result<i64> {
        let offset = server_time_ms as i64 - self.wall_millis() as i64;
        meta::set(&self.conn, meta::CLOCK_OFFSET_MS, &offset.to_string())?;
        Ok(offset)
    }

    /// The last HLC issued or observed here.
    pub fn last_hlc(&self) -> Result<Hlc> {
        meta::get_u64(&self.conn, meta::HLC_LAST).map(|v| Hlc(v.unwrap_or(0)))
    }
}
