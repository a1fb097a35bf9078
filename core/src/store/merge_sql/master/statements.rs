//! The master merge's statements: their shapes, SQL and parameters (kept in arenas per chunk of
//! rows, so that the planning thread allocates them and the writer frees none).

use super::borrowing::BorrowingStatement;
use super::*;
use rusqlite::types::ValueRef;

/// Appends a row's winning clocks (codec format 2) to `out`.
pub(super) fn encode_winners_into(out: &mut Vec<u8>, row: &MasterRow) {
    codec::encode_winners_into(
        out,
        row.winners.iter().enumerate().filter_map(|(field, w)| {
            w.as_ref().map(|w| codec::Winner {
                field,
                hlc: w.hlc,
                site: &w.site,
            })
        }),
    );
}

/// The row statements of the merge, prepared once per shape on the master's connection and kept in
/// its [`RowCache`] between batches (the SQL text is built only to prepare them).
pub(super) struct Prepared<'c, 'a> {
    pub(super) conn: &'c Connection,
    pub(super) inserts: &'a mut FxHashMap<InsertShape, BorrowingStatement>,
    pub(super) updates: &'a mut FxHashMap<Shape, BorrowingStatement>,
}

impl Prepared<'_, '_> {
    /// Runs the INSERT of `shape` with `params`; returns the rows inserted (0 when a row with the
    /// id is stored: `ON CONFLICT DO NOTHING`).
    pub(super) fn insert<'p>(
        &mut self,
        def: &'static TableDef,
        shape: InsertShape,
        params: impl Iterator<Item = ValueRef<'p>>,
    ) -> Result<usize> {
        let conn = self.conn;
        let statement = cached(self.inserts, conn, shape, || insert_sql(def, shape))?;
        statement.execute(conn, params)
    }

    /// Runs the UPDATE of `shape` with `params`.
    pub(super) fn update<'p>(
        &mut self,
        shape: Shape,
        params: impl Iterator<Item = ValueRef<'p>>,
    ) -> Result<usize> {
        let def = tables::table(shape.table)
            .ok_or_else(|| CoreError::Corrupt(format!("unknown table {}", shape.table)))?;
        let conn = self.conn;
        let statement = cached(self.updates, conn, shape, || update_sql(def, shape))?;
        statement.execute(conn, params)
    }
}

/// The statement of `shape` in `statements`, prepared on `conn` if it is not there yet (or was
/// prepared on another connection: a cache handed to a new connection starts again).
fn cached<'s, K: std::hash::Hash + Eq>(
    statements: &'s mut FxHashMap<K, BorrowingStatement>,
    conn: &Connection,
    shape: K,
    sql: impl FnOnce() -> String,
) -> Result<&'s mut BorrowingStatement> {
    use std::collections::hash_map::Entry;
    Ok(match statements.entry(shape) {
        Entry::Occupied(e) if e.get().belongs_to(conn) => e.into_mut(),
        Entry::Occupied(mut e) => {
            e.insert(BorrowingStatement::prepare(conn, &sql())?);
            e.into_mut()
        }
        Entry::Vacant(e) => e.insert(BorrowingStatement::prepare(conn, &sql())?),
    })
}

/// A statement parameter: the operation's text borrowed, a small value, or bytes kept in the
/// [`ParamArena`] it belongs to (clocks, log records, derived text).
pub(super) enum Param<'a> {
    Text(&'a str),
    Value(SqlValue),
    Blob(Range<usize>),
    ArenaText(Range<usize>),
}

impl<'a> Param<'a> {
    /// [`column_value`] without copying a text value.
    pub(super) fn column(field: &crate::tables::FieldDef, value: Option<&'a Value>) -> Param<'a> {
        match value {
            Some(Value::String(s)) if field.ty == crate::tables::FieldType::Text => Param::Text(s),
            other => Param::Value(column_value(field, other)),
        }
    }
}

/// The parameters of many rows and the bytes they refer to: a few allocations per chunk of rows
/// instead of several per row (the planner allocates them, the writer frees them).
#[derive(Default)]
pub(super) struct ParamArena<'a> {
    pub(super) params: Vec<Param<'a>>,
    pub(super) bytes: Vec<u8>,
}

impl<'a> ParamArena<'a> {
    pub(super) fn clear(&mut self) {
        self.params.clear();
        self.bytes.clear();
    }

    pub(super) fn push(&mut self, param: Param<'a>) {
        self.params.push(param);
    }

    pub(super) fn push_blob(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        self.params.push(Param::Blob(start..self.bytes.len()));
    }

    pub(super) fn push_value(&mut self, value: SqlValue) {
        match value {
            SqlValue::Text(text) => {
                let start = self.bytes.len();
                self.bytes.extend_from_slice(text.as_bytes());
                self.params.push(Param::ArenaText(start..self.bytes.len()));
            }
            other => self.params.push(Param::Value(other)),
        }
    }

    /// The parameters in `range` as SQLite takes them (borrowed: see [`BorrowingStatement`]).
    pub(super) fn bind(&self, range: Range<usize>) -> impl Iterator<Item = ValueRef<'_>> {
        self.params[range].iter().map(|param| match param {
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
            Param::Value(v) => ValueRef::from(v),
            Param::Blob(range) => ValueRef::Blob(&self.bytes[range.clone()]),
            Param::ArenaText(range) => ValueRef::Text(&self.bytes[range.clone()]),
        })
    }
}

/// Which columns an INSERT of a new master row writes (the other fields are NULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct InsertShape {
    pub(super) table: &'static str,
    /// Written fields ([`column_bit`]); the deletion flag is always written.
    pub(super) columns: u64,
}

pub(super) fn insert_sql(def: &TableDef, shape: InsertShape) -> String {
    let mut columns: Vec<&str> = vec!["rowid", "id"];
    for (i, field) in def.fields.iter().enumerate() {
        if shape.columns & column_bit(i) != 0 {
            columns.push(field.name);
        }
    }
    columns.extend(["_versions", "_log"]);
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO NOTHING",
        def.name,
        columns.join(", "),
        placeholders.join(", ")
    )
}

/// Pushes a column's parameter: the operation's own value borrowed, a value rebuilt from history
/// copied into the arena.
pub(super) fn push_column<'a>(
    arena: &mut ParamArena<'a>,
    field: &crate::tables::FieldDef,
    value: &Option<Cow<'a, Value>>,
) {
    match value {
        Some(Cow::Borrowed(v)) => arena.push(Param::column(field, Some(*v))),
        Some(Cow::Owned(v)) => arena.push_value(column_value(field, Some(v))),
        None => arena.push(Param::column(field, None)),
    }
}

/// What the parameter builders need of a table, looked up once per table instead of per row.
#[derive(Debug, Clone, Copy)]
pub(super) struct TableInfo {
    /// The deletion flag's column bit (written with every insert: it is 0, not NULL, when unset).
    pub(super) deleted: u64,
}

impl TableInfo {
    pub(super) fn of(def: &TableDef) -> TableInfo {
        TableInfo {
            deleted: def
                .fields
                .iter()
                .position(|f| f.name == tables::DELETED_FIELD)
                .map_or(0, column_bit),
        }
    }
}

/// Pushes the parameters of [`insert_sql`] for a new row (every written field's value is in
/// `values`) and returns the statement's shape.
pub(super) fn insert_params<'a>(
    def: &'static TableDef,
    info: TableInfo,
    row_id: &'a str,
    row: &MasterRow,
    outcome: &Outcome,
    values: &[Option<Cow<'a, Value>>],
    arena: &mut ParamArena<'a>,
) -> InsertShape {
    let shape = InsertShape {
        table: def.name,
        columns: outcome.changed | info.deleted,
    };
    arena.push(Param::Value(SqlValue::Integer(row.rowid)));
    arena.push(Param::Text(row_id));
    for (i, (field, value)) in def.fields.iter().zip(values).enumerate() {
        if shape.columns & column_bit(i) != 0 {
            push_column(arena, field, value);
        }
    }
    arena.push_blob(|out| encode_winners_into(out, row));
    arena.push_blob(|out| codec::encode_seqs_into(out, &row.log));
    shape
}

/// Which columns an UPDATE of a master row writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Shape {
    pub(super) table: &'static str,
    /// Fields whose visible value changed ([`column_bit`]).
    pub(super) columns: u64,
    pub(super) versions: bool,
    pub(super) log: bool,
}

pub(super) fn update_sql(def: &TableDef, shape: Shape) -> String {
    let mut sets: Vec<&str> = Vec::new();
    for (i, field) in def.fields.iter().enumerate() {
        if shape.columns & column_bit(i) != 0 {
            sets.push(field.name);
        }
    }
    if shape.versions {
        sets.push("_versions");
    }
    if shape.log {
        sets.push("_log");
    }
    let mut sql = format!("UPDATE {} SET ", def.name);
    for (n, column) in sets.iter().enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "{column} = ?{}", n + 1);
    }
    let _ = write!(sql, " WHERE rowid = ?{}", sets.len() + 1);
    sql
}

/// Pushes the parameters of the UPDATE that stores a merged row's changed columns, clocks and log
/// records, and returns its shape (None, and nothing pushed, when nothing changed). A row the
/// master's own write path stored in full is rewritten in format 2.
pub(super) fn update_params<'a>(
    def: &'static TableDef,
    row: &mut MasterRow,
    outcome: &Outcome,
    values: &[Option<Cow<'a, Value>>],
    arena: &mut ParamArena<'a>,
) -> Option<Shape> {
    let columns = outcome.changed;
    if columns == 0 && !outcome.log_changed {
        return None;
    }
    let shape = Shape {
        table: def.name,
        columns,
        versions: columns != 0 || row.stored.is_some(),
        log: outcome.log_changed,
    };
    for (i, field) in def.fields.iter().enumerate() {
        if columns & column_bit(i) != 0 {
            push_column(arena, field, &values[i]);
        }
    }
    if shape.versions {
        arena.push_blob(|out| encode_winners_into(out, row));
    }
    if shape.log {
        arena.push_blob(|out| codec::encode_seqs_into(out, &row.log));
    }
    arena.push(Param::Value(SqlValue::Integer(row.rowid)));
    // Its stored versions are in the log (the master's own writes are logged right after them).
    row.stored = None;
    Some(shape)
}
