//! Statements prepared once per connection. `Client::query(&str, …)` prepares the statement afresh
//! at every call: a round trip more, and PostgreSQL parsing and planning it again. Under the
//! 200-office load that was a tenth of the database's time; the push path's statements are now
//! prepared once per session and reused (a prepared statement outlives the transaction it was
//! prepared in).

use crate::error::Result;
use postgres::types::ToSql;
use postgres::{GenericClient, Row, Statement, Transaction};
use std::collections::HashMap;

/// A session's prepared statements, by their text.
#[derive(Default)]
pub(in crate::master) struct Prepared(HashMap<&'static str, Statement>);

impl Prepared {
    /// `sql` prepared on `db`'s connection, once.
    pub fn statement(
        &mut self,
        db: &mut impl GenericClient,
        sql: &'static str,
    ) -> Result<Statement> {
        if let Some(found) = self.0.get(sql) {
            return Ok(found.clone());
        }
        let statement = db.prepare(sql)?;
        self.0.insert(sql, statement.clone());
        Ok(statement)
    }
}

/// A transaction with its session's prepared statements: the push path's statements go through it.
pub(in crate::master) struct Sql<'t, 'a> {
    tx: &'t mut Transaction<'a>,
    prepared: &'t mut Prepared,
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl<'t, 'a> Sql<'t, 'a> {
    pub fn new(tx: &'t mut Transaction<'a>, prepared: &'t mut Prepared) -> Sql<'t, 'a> {
        Sql { tx, prepared }
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        self.prepared.statement(self.tx, sql)
    }

    pub fn query(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query(&statement, params)?)
    }

    pub fn query_opt(&mut self, sql: &'static str, params: Params<'_>) -> Result<Option<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query_opt(&statement, params)?)
    }

    pub fn query_one(&mut self, sql: &'static str, params: Params<'_>) -> Result<Row> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query_one(&statement, params)?)
    }

    pub fn execute(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        let statement = self.statement(sql)?;
        Ok(self.tx.execute(&statement, params)?)
    }
}
