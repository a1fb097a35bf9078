//! The district master as the tests' assertions read it, on either backend (issue 12 §2: one suite,
//! both backends). Read-only and for assertions only: it reads the backend's tables directly and
//! rebuilds each row's field history from the audit log with core's codec and merge rule, independently
//! of the server's code, so a server that merged wrongly cannot also answer for itself.
//!
//! The SQLite master keeps one table per replicated table and its log in segment files beside the
//! file; the PostgreSQL master keeps replicated rows in `master_row` (values as JSON) and its log in
//! `log_record`. Rows come out the same on both: the table's fields as JSON, booleans as booleans.

use jiceng_core::merge::RowVersions;
use jiceng_core::op::Operation;
use jiceng_core::tables::{FieldType, TableDef};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// A master row's fields (and its `id`).
pub type Row = Map<String, Value>;

/// One record of the master's audit log: the site that sent it, its site_seq range, and how many
/// operations it holds (held operations inside the range are in quarantine instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRange {
    pub first_site_seq: u64,
    pub last_site_seq: u64,
    pub ops: u64,
}

/// One held operation.
#[derive(Debug, Clone)]
pub struct Held {
    pub site_id: String,
    pub site_seq: u64,
    pub code: String,
    pub reason: String,
    pub status: String,
}

/// One alarm.
#[derive(Debug, Clone)]
pub struct AlarmRow {
    pub site_id: Option<String>,
    pub code: String,
}

/// One conflict item (the losing value of a field kept for review).
#[derive(Debug, Clone)]
pub struct ConflictRow {
    pub id: String,
    pub table: String,
    pub row_id: String,
    pub field: String,
}

pub enum MasterView {
    Sqlite(rusqlite::Connection),
    /// The database's URL: each query connects on a thread of its own, since the synchronous client
    /// cannot run inside the async tests' runtime.
    Postgres(String),
}

fn def(table: &str) -> &'static TableDef {
    jiceng_core::tables::table(table).unwrap_or_else(|| panic!("no table {table}"))
}

impl MasterView {
    /// Opens the master named as the server was given it: a file path or a `postgres://` URL.
    pub fn open(master: &Path) -> MasterView {
        let name = master.to_str().expect("utf-8 master name");
        if name.starts_with("postgres://") || name.starts_with("postgresql://") {
            return MasterView::Postgres(name.to_string());
        }
        let conn = rusqlite::Connection::open_with_flags(
            master,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open master");
        MasterView::Sqlite(conn)
    }

    fn pg_query(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Vec<postgres::Row> {
        match self {
            MasterView::Postgres(url) => std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        let mut client = postgres::Client::connect(url, postgres::NoTls)
                            .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
                        client
                            .query(sql, params)
                            .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    })
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
            }),
            MasterView::Sqlite(_) => unreachable!("a PostgreSQL query on the SQLite master"),
        }
    }

    /// Every row of a replicated table, ordered by id (deleted rows included: nothing is lost).
    pub fn table(&self, table: &str) -> Vec<Row> {
        let def = def(table);
        match self {
            MasterView::Sqlite(conn) => {
                let columns: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
                let sql = format!("SELECT id, {} FROM {table} ORDER BY id", columns.join(", "));
                let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let rows = stmt
                    .query_map([], |r| {
                        let mut row = Row::new();
                        row.insert("id".into(), Value::String(r.get(0)?));
                        for (i, field) in def.fields.iter().enumerate() {
                            let value = sqlite_json(field.ty, r.get_ref(i + 1)?);
                            row.insert(field.name.to_string(), value);
                        }
                        Ok(row)
                    })
                    .expect("query");
                rows.map(|r| r.expect("row")).collect()
            }
            MasterView::Postgres(_) => self
                .pg_query(
                    "SELECT id, vals::text FROM master_row WHERE tbl = $1 ORDER BY id",
                    &[&table],
                )
                .into_iter()
                .map(|r| {
                    let id: String = r.get(0);
                    let vals: String = r.get(1);
                    let mut stored: Row = serde_json::from_str(&vals).expect("vals JSON");
                    let mut row = Row::new();
                    row.insert("id".into(), Value::String(id));
                    for field in def.fields {
                        let value = stored.remove(field.name).unwrap_or(Value::Null);
                        row.insert(field.name.to_string(), value);
                    }
                    row
                })
                .collect(),
        }
    }

    /// One row of a replicated table.
    pub fn row(&self, table: &str, id: &str) -> Option<Row> {
        self.table(table)
            .into_iter()
            .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
    }

    /// Rows of a table whose `field` is the text `value`.
    pub fn rows_where(&self, table: &str, field: &str, value: &str) -> Vec<Row> {
        self.table(table)
            .into_iter()
            .filter(|r| r.get(field).and_then(Value::as_str) == Some(value))
            .collect()
    }

    /// Each row's whole field history (core's encoding, as a site stores `_versions`), rebuilt from
    /// the operations of the audit log: (id, history) for the rows `keep` accepts, ordered by id.
    pub fn histories(&self, table: &str, keep: impl Fn(&Row) -> bool) -> Vec<(String, Vec<u8>)> {
        let def = def(table);
        let wanted: Vec<String> = self
            .table(table)
            .into_iter()
            .filter(|r| keep(r))
            .map(|r| r["id"].as_str().expect("id").to_string())
            .collect();
        let mut histories: BTreeMap<String, RowVersions> = wanted
            .iter()
            .map(|id| (id.clone(), RowVersions::default()))
            .collect();
        for op in self.logged_operations() {
            if op.table == table {
                if let Some(history) = histories.get_mut(&op.row_id) {
                    history.apply(&op, def.merge);
                }
            }
        }
        histories
            .into_iter()
            .map(|(id, history)| (id, jiceng_core::codec::encode_row(&history)))
            .collect()
    }

    /// Every operation in the audit log, in log order, each with the server_seq the master gave it
    /// (a record holds consecutive numbers from its first).
    pub fn logged_operations(&self) -> Vec<Operation> {
        let records: Vec<(i64, Vec<u8>)> = match self {
            MasterView::Sqlite(conn) => {
                let db = conn.path().expect("master file").to_string();
                let mut stmt = conn
                    .prepare(
                        "SELECT first_seq, segment, byte_offset, byte_len FROM log_chunk ORDER BY first_seq",
                    )
                    .expect("prepare");
                let chunks: Vec<(i64, i64, i64, i64)> = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .expect("query")
                    .map(|r| r.expect("chunk"))
                    .collect();
                let mut segments: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
                chunks
                    .into_iter()
                    .map(|(first_seq, segment, offset, len)| {
                        // `<master file>-oplog-000001`, … (sync-server/src/master/log_files.rs).
                        let file = segments.entry(segment).or_insert_with(|| {
                            std::fs::read(format!("{db}-oplog-{segment:06}")).expect("log segment")
                        });
                        (
                            first_seq,
                            file[offset as usize..(offset + len) as usize].to_vec(),
                        )
                    })
                    .collect()
            }
            MasterView::Postgres(_) => self
                .pg_query(
                    "SELECT first_seq, ops FROM log_record ORDER BY first_seq",
                    &[],
                )
                .into_iter()
                .map(|r| (r.get::<_, i64>(0), r.get::<_, Vec<u8>>(1)))
                .collect(),
        };
        records
            .iter()
            .flat_map(|(first_seq, blob)| {
                let ops = jiceng_core::codec::decode_ops(blob).expect("logged ops");
                ops.into_iter().enumerate().map(move |(i, mut op)| {
                    op.server_seq = op.server_seq.or(Some(*first_seq as u64 + i as u64));
                    op
                })
            })
            .collect()
    }

    /// The audit log's records of one site, in site_seq order.
    pub fn log_ranges(&self, site_id: &str) -> Vec<LogRange> {
        let range = |a: i64, b: i64, n: i64| LogRange {
            first_site_seq: a as u64,
            last_site_seq: b as u64,
            ops: n as u64,
        };
        match self {
            MasterView::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare(
                        "SELECT first_site_seq, last_site_seq, last_seq - first_seq + 1 FROM log_chunk \
                         WHERE origin_site = ?1 ORDER BY first_site_seq",
                    )
                    .expect("prepare");
                let ranges = stmt
                    .query_map([site_id], |r| Ok(range(r.get(0)?, r.get(1)?, r.get(2)?)))
                    .expect("query");
                ranges.map(|r| r.expect("range")).collect()
            }
            MasterView::Postgres(_) => self
                .pg_query(
                    "SELECT first_site_seq, last_site_seq, last_seq - first_seq + 1 FROM log_record \
                     WHERE origin_site = $1 ORDER BY first_site_seq",
                    &[&site_id],
                )
                .into_iter()
                .map(|r| range(r.get(0), r.get(1), r.get(2)))
                .collect(),
        }
    }

    /// Operations of a site in the audit log.
    pub fn logged_count(&self, site_id: &str) -> u64 {
        self.log_ranges(site_id).iter().map(|r| r.ops).sum()
    }

    /// Every held operation, in (site, site_seq) order.
    pub fn held(&self) -> Vec<Held> {
        let sql = "SELECT site_id, site_seq, code, reason, status FROM quarantine ORDER BY site_id, site_seq";
        match self {
            MasterView::Sqlite(conn) => {
                let mut stmt = conn.prepare(sql).expect("prepare");
                let rows = stmt
                    .query_map([], |r| {
                        Ok(Held {
                            site_id: r.get(0)?,
                            site_seq: r.get::<_, i64>(1)? as u64,
                            code: r.get(2)?,
                            reason: r.get(3)?,
                            status: r.get(4)?,
                        })
                    })
                    .expect("query");
                rows.map(|r| r.expect("held")).collect()
            }
            MasterView::Postgres(_) => self
                .pg_query(sql, &[])
                .into_iter()
                .map(|r| Held {
                    site_id: r.get(0),
                    site_seq: r.get::<_, i64>(1) as u64,
                    code: r.get(2),
                    reason: r.get(3),
                    status: r.get(4),
                })
                .collect(),
        }
    }

    /// Held operations of one site.
    pub fn held_of(&self, site_id: &str) -> Vec<Held> {
        self.held()
            .into_iter()
            .filter(|h| h.site_id == site_id)
            .collect()
    }

    /// Every alarm, oldest first.
    pub fn alarms(&self) -> Vec<AlarmRow> {
        let sql = "SELECT site_id, code FROM alarm ORDER BY id";
        match self {
            MasterView::Sqlite(conn) => {
                let mut stmt = conn.prepare(sql).expect("prepare");
                let rows = stmt
                    .query_map([], |r| {
                        Ok(AlarmRow {
                            site_id: r.get(0)?,
                            code: r.get(1)?,
                        })
                    })
                    .expect("query");
                rows.map(|r| r.expect("alarm")).collect()
            }
            MasterView::Postgres(_) => self
                .pg_query(sql, &[])
                .into_iter()
                .map(|r| AlarmRow {
                    site_id: r.get(0),
                    code: r.get(1),
                })
                .collect(),
        }
    }

    /// How many alarms carry `code`.
    pub fn alarm_count(&self, code: &str) -> u64 {
        self.alarms().iter().filter(|a| a.code == code).count() as u64
    }

    /// The master's conflict items, by id.
    pub fn conflicts(&self) -> Vec<ConflictRow> {
        let sql = |t: &str| format!("SELECT id, tbl, row_id, field FROM {t} ORDER BY id");
        match self {
            MasterView::Sqlite(conn) => {
                let mut stmt = conn.prepare(&sql("conflict")).expect("prepare");
                let rows = stmt
                    .query_map([], |r| {
                        Ok(ConflictRow {
                            id: r.get(0)?,
                            table: r.get(1)?,
                            row_id: r.get(2)?,
                            field: r.get(3)?,
                        })
                    })
                    .expect("query");
                rows.map(|r| r.expect("conflict")).collect()
            }
            MasterView::Postgres(_) => self
                .pg_query(&sql("conflict_item"), &[])
                .into_iter()
                .map(|r| ConflictRow {
                    id: r.get(0),
                    table: r.get(1),
                    row_id: r.get(2),
                    field: r.get(3),
                })
                .collect(),
        }
    }

    /// The registered sites: (id, name, org unit, created at).
    pub fn sites(&self) -> Vec<(String, String, String, u64)> {
        let sql = "SELECT id, name, org_unit_id, created_at_ms FROM site ORDER BY id";
        match self {
            MasterView::Sqlite(conn) => {
                let mut stmt = conn.prepare(sql).expect("prepare");
                let rows = stmt
                    .query_map([], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? as u64))
                    })
                    .expect("query");
                rows.map(|r| r.expect("site")).collect()
            }
            MasterView::Postgres(_) => self
                .pg_query(sql, &[])
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get::<_, i64>(3) as u64))
                .collect(),
        }
    }

    /// The last site_seq the master accepted from a site (the head of its hash chain).
    pub fn site_last_seq(&self, site_id: &str) -> u64 {
        match self {
            MasterView::Sqlite(conn) => conn
                .query_row("SELECT last_seq FROM site WHERE id = ?1", [site_id], |r| {
                    r.get::<_, i64>(0)
                })
                .expect("site") as u64,
            MasterView::Postgres(_) => self
                .pg_query("SELECT last_seq FROM site WHERE id = $1", &[&site_id])[0]
                .get::<_, i64>(0) as u64,
        }
    }

    /// How often the district read a site's recovery code out.
    pub fn recovery_code_reads(&self, site_id: &str) -> u64 {
        match self {
            MasterView::Sqlite(conn) => conn
                .query_row(
                    "SELECT COUNT(*) FROM recovery_code_read WHERE site_id = ?1",
                    [site_id],
                    |r| r.get::<_, i64>(0),
                )
                .expect("count") as u64,
            MasterView::Postgres(_) => self.pg_query(
                "SELECT COUNT(*) FROM recovery_code_read WHERE site_id = $1",
                &[&site_id],
            )[0]
            .get::<_, i64>(0) as u64,
        }
    }

    /// The org unit `root` and every unit below it.
    pub fn subtree(&self, root: &str) -> Vec<String> {
        let units = self.table("org_unit");
        let mut found = vec![root.to_string()];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i].clone();
            for unit in &units {
                if unit.get("parent_id").and_then(Value::as_str) == Some(parent.as_str()) {
                    let id = unit["id"].as_str().expect("id").to_string();
                    if !found.contains(&id) {
                        found.push(id);
                    }
                }
            }
            i += 1;
        }
        found
    }

    /// The district's org unit id.
    pub fn district(&self) -> String {
        self.rows_where("org_unit", "kind", "district")
            .first()
            .and_then(|r| r["id"].as_str())
            .expect("a district")
            .to_string()
    }
}

/// A SQLite column as the JSON the PostgreSQL master keeps (booleans as booleans).
fn sqlite_json(ty: FieldType, value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match (ty, value) {
        (_, ValueRef::Null) => Value::Null,
        (FieldType::Bool, ValueRef::Integer(i)) => Value::Bool(i != 0),
        (_, ValueRef::Integer(i)) => Value::from(i),
        (_, ValueRef::Real(f)) => Value::from(f),
        (_, ValueRef::Text(t)) => Value::String(String::from_utf8_lossy(t).into_owned()),
        (_, ValueRef::Blob(b)) => Value::String(format!("<{} bytes>", b.len())),
    }
}

/// A field's value read as a boolean (true, or a non-zero number).
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().is_some_and(|i| i != 0),
        _ => false,
    }
}
