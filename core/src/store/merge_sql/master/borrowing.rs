//! The master merge's row statements, bound without copying their parameters.
//!
//! rusqlite binds every text and blob with `SQLITE_TRANSIENT`: SQLite copies each value into memory
//! of its own before the statement runs, and a profile of the master merge put those copies (and
//! their allocations) at about a tenth of the thread that owns the connection. The merge's
//! parameters already sit in memory that outlives the statement's run (the batch's operations and
//! the chunk's arena), so they are bound with `SQLITE_STATIC` here: SQLite reads them in place.
//!
//! Soundness rests on two rules:
//! - SQLite holds a parameter's pointer only between its bind and the end of the same call:
//!   [`BorrowingStatement::execute`] resets the statement and clears every binding before it
//!   returns, whether the run succeeded or not;
//! - a statement outlives the borrow of the connection it was prepared on (the master keeps its
//!   statements between batches, as rusqlite's statement cache would), and its connection handle
//!   stays valid as long as it exists: SQLite refuses to close a connection (`SQLITE_BUSY`, the
//!   connection stays open) while it has unfinalized statements. The master drops its statements
//!   before its connection, so that the close succeeds; `execute` refuses another connection.

use crate::error::CoreError;
use rusqlite::ffi;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::ffi::{c_int, CStr};
use std::ptr::NonNull;

/// A prepared statement of one connection that binds text and blobs in place (see the module).
pub(super) struct BorrowingStatement {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    params: usize,
}

// SAFETY: like rusqlite's `Connection` (which is `Send`), a statement may move to another thread
// with the master that owns it; it is used through `&mut self` only, by whichever thread holds the
// master (SQLite's multi-thread mode: one thread at a time per connection).
unsafe impl Send for BorrowingStatement {}

impl std::fmt::Debug for BorrowingStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BorrowingStatement")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl BorrowingStatement {
    /// Prepares one SQL statement on `conn`.
    pub(super) fn prepare(conn: &Connection, sql: &str) -> Result<Self, CoreError> {
        let len = c_int::try_from(sql.len())
            .map_err(|_| CoreError::Corrupt("a statement longer than 2 GiB".to_string()))?;
        // SAFETY: the handle is only compared and passed to SQLite (see the module on its life).
        let db = NonNull::new(unsafe { conn.handle() })
            .ok_or_else(|| CoreError::Corrupt("a closed connection".to_string()))?;
        let mut stmt = std::ptr::null_mut();
        let mut tail = std::ptr::null();
        // SAFETY: `sql` is valid for `len` bytes (it need not end in a NUL when its length is given);
        // `stmt` and `tail` are written by SQLite.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                &mut tail,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(db, rc));
        }
        let stmt = NonNull::new(stmt)
            .ok_or_else(|| CoreError::Corrupt(format!("no statement in {sql:?}")))?;
        // SAFETY: `stmt` is the statement just prepared.
        let params = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) };
        let statement = BorrowingStatement {
            db,
            stmt,
            params: usize::try_from(params).unwrap_or(0),
        };
        // `tail` points into `sql` (or is null): only its offset is used.
        let rest = if tail.is_null() {
            0
        } else {
            sql.len() - (tail as usize - sql.as_ptr() as usize)
        };
        if !sql[sql.len() - rest..].trim().is_empty() {
            return Err(CoreError::Corrupt(format!(
                "more than one statement in {sql:?}"
            )));
        }
        Ok(statement)
    }

    /// Whether the statement was prepared on `conn`.
    pub(super) fn belongs_to(&self, conn: &Connection) -> bool {
        // SAFETY: the handle is only compared.
        std::ptr::eq(self.db.as_ptr(), unsafe { conn.handle() })
    }

    /// Runs the statement once on `conn` (the connection it was prepared on) with `params` bound
    /// in order (exactly as many as it has) and returns the number of rows it changed. For INSERT,
    /// UPDATE and DELETE statements: one that returns rows is an error.
    pub(super) fn execute<'p>(
        &mut self,
        conn: &Connection,
        params: impl IntoIterator<Item = ValueRef<'p>>,
    ) -> Result<usize, CoreError> {
        // Borrowing `conn` here also keeps it from closing while the statement runs.
        if !self.belongs_to(conn) {
            return Err(CoreError::Corrupt(
                "a statement run on a connection it was not prepared on".to_string(),
            ));
        }
        let bound = self.bind_all(params);
        let stepped = match bound {
            // SAFETY: every parameter is bound to memory borrowed for this call ('p).
            Ok(()) => unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) },
            Err(e) => {
                self.unbind();
                return Err(e);
            }
        };
        let result = match stepped {
            // SAFETY: the connection is open (borrowed by this call).
            ffi::SQLITE_DONE => Ok(unsafe { ffi::sqlite3_changes64(self.db.as_ptr()) }),
            ffi::SQLITE_ROW => Err(CoreError::Corrupt(
                "a row statement returned rows".to_string(),
            )),
            rc => Err(last_error(self.db, rc)),
        };
        self.unbind();
        result.map(|changed| usize::try_from(changed).unwrap_or(0))
    }

    fn bind_all<'p>(
        &mut self,
        params: impl IntoIterator<Item = ValueRef<'p>>,
    ) -> Result<(), CoreError> {
        let stmt = self.stmt.as_ptr();
        let mut count = 0usize;
        for value in params {
            count += 1;
            if count > self.params {
                break;
            }
            // `count` is at most `self.params`, which came from a c_int.
            let index = count as c_int;
            // SAFETY: `index` is within the statement's parameters. Text and blobs are bound
            // SQLITE_STATIC: SQLite reads them in place until `unbind`, which runs before this
            // call's borrow of them ends (see the module). Empty slices have a dangling, non-null
            // pointer, which SQLite never reads for a length of 0.
            let rc = unsafe {
                match value {
                    ValueRef::Null => ffi::sqlite3_bind_null(stmt, index),
                    ValueRef::Integer(v) => ffi::sqlite3_bind_int64(stmt, index, v),
                    ValueRef::Real(v) => ffi::sqlite3_bind_double(stmt, index, v),
                    ValueRef::Text(s) => ffi::sqlite3_bind_text64(
                        stmt,
                        index,
                        s.as_ptr().cast(),
                        s.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    ValueRef::Blob(b) => ffi::sqlite3_bind_blob64(
                        stmt,
                        index,
                        b.as_ptr().cast(),
                        b.len() as u64,
                        ffi::SQLITE_STATIC(),
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(last_error(self.db, rc));
            }
        }
        if count != self.params {
            return Err(CoreError::Corrupt(format!(
                "a statement of {} parameters given {}{}",
                self.params,
                count.min(self.params + 1),
                if count > self.params { " or more" } else { "" }
            )));
        }
        Ok(())
    }

    /// Resets the statement and clears its bindings: SQLite keeps no pointer to the parameters.
    fn unbind(&mut self) {
        // SAFETY: the statement is valid until drop. Their return codes repeat the step's error,
        // already reported.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
            ffi::sqlite3_clear_bindings(self.stmt.as_ptr());
        }
    }
}

impl Drop for BorrowingStatement {
    fn drop(&mut self) {
        // SAFETY: finalized once; its connection is still open (see the module).
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// The connection's last error as rusqlite reports it (so callers match constraint errors the same
/// way whichever statement raised them).
fn last_error(db: NonNull<ffi::sqlite3>, rc: c_int) -> CoreError {
    // SAFETY: the connection is open; the message is copied before any other call on it.
    let (code, message) = unsafe {
        let code = ffi::sqlite3_extended_errcode(db.as_ptr());
        let text = ffi::sqlite3_errmsg(db.as_ptr());
        let message = if text.is_null() {
            None
        } else {
            Some(CStr::from_ptr(text).to_string_lossy().into_owned())
        };
        (code, message)
    };
    // The step's own code when the connection's is not an error (it was overwritten).
    let code = if code == ffi::SQLITE_OK { rc } else { code };
    CoreError::Database(rusqlite::Error::SqliteFailure(
        ffi::Error::new(code),
        message,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().expect("memory db");
        conn.execute_batch(
            "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, r REAL, b BLOB, x TEXT NOT NULL DEFAULT '') STRICT",
        )
        .expect("table");
        conn
    }

    fn row(conn: &Connection, id: &str) -> (Option<i64>, Option<f64>, Option<Vec<u8>>, String) {
        conn.query_row("SELECT n, r, b, x FROM t WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .expect("row")
    }

    /// `INSERT INTO t (id, n) VALUES (?1, ?2)`, prepared on `conn`.
    fn insert_id_and_n(conn: &Connection) -> BorrowingStatement {
        BorrowingStatement::prepare(conn, "INSERT INTO t (id, n) VALUES (?1, ?2)").expect("prepare")
    }

    #[test]
    fn every_kind_of_value_is_stored_as_bound_and_the_memory_may_go_at_once() {
        let conn = table();
        let mut insert = BorrowingStatement::prepare(
            &conn,
            "INSERT INTO t (id, n, r, b, x) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .expect("prepare");
        for i in 0..3 {
            // Values made for this call only and dropped after it: nothing of them may be read later.
            let id = format!("𠀀𡈽-{i}"); // 4-byte UTF-8 (生僻字)
            let blob = vec![i as u8; 1000];
            let changed = insert
                .execute(
                    &conn,
                    [
                        ValueRef::Text(id.as_bytes()),
                        ValueRef::Integer(i64::MAX - i),
                        ValueRef::Real(0.5),
                        ValueRef::Blob(&blob),
                        ValueRef::Text(b""),
                    ],
                )
                .expect("insert");
            assert_eq!(changed, 1);
            drop((id, blob));
        }
        let mut empty =
            BorrowingStatement::prepare(&conn, "INSERT INTO t (id, n, b) VALUES (?1, ?2, ?3)")
                .expect("prepare");
        assert_eq!(
            empty
                .execute(
                    &conn,
                    [ValueRef::Text(b"e"), ValueRef::Null, ValueRef::Blob(&[])]
                )
                .expect("insert"),
            1
        );
        assert_eq!(
            row(&conn, "𠀀𡈽-2"),
            (
                Some(i64::MAX - 2),
                Some(0.5),
                Some(vec![2; 1000]),
                String::new()
            )
        );
        assert_eq!(
            row(&conn, "e"),
            (None, None, Some(Vec::new()), String::new())
        );
    }

    #[test]
    fn an_insert_that_does_nothing_changes_no_row_and_an_update_counts_what_it_changed() {
        let conn = table();
        let mut insert = BorrowingStatement::prepare(
            &conn,
            "INSERT INTO t (id, n) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
        )
        .expect("prepare");
        assert_eq!(
            insert
                .execute(&conn, [ValueRef::Text(b"a"), ValueRef::Integer(1)])
                .unwrap(),
            1
        );
        assert_eq!(
            insert
                .execute(&conn, [ValueRef::Text(b"a"), ValueRef::Integer(2)])
                .unwrap(),
            0
        );
        assert_eq!(
            insert
                .execute(&conn, [ValueRef::Text(b"b"), ValueRef::Integer(3)])
                .unwrap(),
            1
        );
        let mut update = BorrowingStatement::prepare(&conn, "UPDATE t SET n = ?1 WHERE n < ?2")
            .expect("prepare");
        assert_eq!(
            update
                .execute(&conn, [ValueRef::Integer(9), ValueRef::Integer(5)])
                .unwrap(),
            2
        );
        assert_eq!(row(&conn, "a").0, Some(9));
    }

    #[test]
    fn a_refused_row_is_a_constraint_error_and_the_statement_goes_on_working() {
        let conn = table();
        let mut insert = insert_id_and_n(&conn);
        insert
            .execute(&conn, [ValueRef::Text(b"a"), ValueRef::Integer(1)])
            .unwrap();
        let duplicate = insert
            .execute(&conn, [ValueRef::Text(b"a"), ValueRef::Integer(2)])
            .expect_err("a second row with the same key");
        match duplicate {
            CoreError::Database(rusqlite::Error::SqliteFailure(e, Some(message))) => {
                assert_eq!(e.code, rusqlite::ErrorCode::ConstraintViolation);
                assert_eq!(e.extended_code, ffi::SQLITE_CONSTRAINT_PRIMARYKEY);
                assert!(
                    message.contains("UNIQUE") || message.contains("t.id"),
                    "{message}"
                );
            }
            other => panic!("not a constraint error: {other:?}"),
        }
        // STRICT: a text in an INTEGER column is refused by type, not by key.
        let mistyped = insert
            .execute(
                &conn,
                [ValueRef::Text(b"c"), ValueRef::Text(b"not a number")],
            )
            .expect_err("STRICT refuses the text");
        assert!(matches!(mistyped, CoreError::Database(_)), "{mistyped:?}");
        assert_eq!(
            insert
                .execute(&conn, [ValueRef::Text(b"b"), ValueRef::Integer(2)])
                .unwrap(),
            1
        );
        assert_eq!(row(&conn, "b").0, Some(2));
        assert_eq!(row(&conn, "a").0, Some(1));
    }

    #[test]
    fn too_few_or_too_many_parameters_are_refused_before_the_statement_runs() {
        let conn = table();
        let mut insert = insert_id_and_n(&conn);
        assert!(insert.execute(&conn, [ValueRef::Text(b"a")]).is_err());
        assert!(insert
            .execute(
                &conn,
                [
                    ValueRef::Text(b"a"),
                    ValueRef::Integer(1),
                    ValueRef::Integer(2)
                ]
            )
            .is_err());
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 0, "nothing ran");
        assert_eq!(
            insert
                .execute(&conn, [ValueRef::Text(b"a"), ValueRef::Integer(1)])
                .unwrap(),
            1
        );
    }

    #[test]
    fn bad_sql_and_a_second_statement_are_refused_at_prepare() {
        let conn = table();
        assert!(BorrowingStatement::prepare(&conn, "INSERT INTO nowhere VALUES (?1)").is_err());
        assert!(BorrowingStatement::prepare(&conn, "UPDATE t SET n = 1; DELETE FROM t").is_err());
        assert!(BorrowingStatement::prepare(&conn, "   ").is_err());
        assert!(BorrowingStatement::prepare(&conn, "UPDATE t SET n = 1;  ").is_ok());
    }
}
