//! What every master backend does the same way, whatever its database: judging a push's operations
//! under the policy, the alarm a push's holds raise, which log records and operations a pull may see,
//! and which rows left a site's scope in a pull's window. The backends only read and write.

use super::SiteAuth;
use crate::error::{Result, ServerError};
use crate::policy::{Guard, MasterFacts, Verdict};
use crate::scope;
use jiceng_core::op::Operation;
use jiceng_core::tables::{self, TableDef};
use jiceng_core::validate::Refusal;
use jiceng_core::wire::RowRef;
use std::collections::HashMap;

/// The identity of the store the server's own writes are made on, as the server site `site_id`.
pub(crate) fn server_site_identity(site_id: &str) -> jiceng_core::store::SiteIdentity {
    jiceng_core::store::SiteIdentity {
        site_id: site_id.to_string(),
        site_name: "同步服务器".to_string(),
        org_unit_id: String::new(),
        org_unit_name: String::new(),
        server_url: String::new(),
        token: String::new(),
        tls_pin: None,
    }
}

/// Operations the policy holds, by site id and site_seq, with why.
pub type Holds = HashMap<String, HashMap<u64, Refusal>>;

/// Runs the policy over a push's operations: a protocol error refuses the request; content the policy
/// refuses is held, one operation at a time. Only operations after the site's cursor (`last_seq`) are
/// judged (the others are retries, answered from the log).
pub fn judge(
    site: &SiteAuth,
    ops: &[Operation],
    divergent: &[u64],
    last_seq: u64,
    facts: &dyn MasterFacts,
    now_ms: u64,
    max_drift_ms: u64,
) -> Result<Holds> {
    let mut guard = Guard::new(site, facts, now_ms, max_drift_ms);
    for op in ops {
        guard.check_protocol(op)?;
    }
    let mut fresh: Vec<&Operation> = ops.iter().filter(|o| o.site_seq > last_seq).collect();
    fresh.sort_by_key(|o| o.site_seq);
    let mut holds = Holds::default();
    for op in fresh {
        // Issue 10 §3: a restored or copied store's divergent tail, written again: kept for review.
        if divergent.contains(&op.site_seq) {
            holds.entry(op.site_id.clone()).or_default().insert(
                op.site_seq,
                Refusal::new(
                    "divergent_copy",
                    "written by a restored or copied copy of this site's database that the server never had; review it",
                    "本站数据库的恢复或复制副本所写、服务器上没有的记录，待区司法局审核",
                ),
            );
            continue;
        }
        if let Verdict::Hold(refusal) = guard.judge(op)? {
            holds
                .entry(op.site_id.clone())
                .or_default()
                .insert(op.site_seq, refusal);
        }
    }
    Ok(holds)
}

/// The refusal of an operation stamped further ahead of the server's clock than the drift allows
/// (the last guard, whatever the policy said), or the policy's own.
pub fn refusal_of(
    op: &Operation,
    holds: &Holds,
    now_ms: u64,
    max_drift_ms: u64,
) -> Option<Refusal> {
    if let Some(r) = holds
        .get(op.site_id.as_str())
        .and_then(|site| site.get(&op.site_seq))
    {
        return Some(r.clone());
    }
    (op.hlc.millis() > now_ms.saturating_add(max_drift_ms)).then(|| {
        let minutes = (op.hlc.millis() - now_ms) / 60_000;
        Refusal::new(
            "future_clock",
            format!("future_clock: {minutes} min ahead of the server"),
            format!("本机时钟比服务器快约{minutes}分钟，这条记录的时间不可信"),
        )
    })
}

/// Whether an operation is held (cheap: no allocation unless something is held).
pub fn is_held(op: &Operation, holds: &Holds, now_ms: u64, max_drift_ms: u64) -> bool {
    op.hlc.millis() > now_ms.saturating_add(max_drift_ms)
        || (!holds.is_empty()
            && holds
                .get(op.site_id.as_str())
                .is_some_and(|site| site.contains_key(&op.site_seq)))
}

/// The alarm (code, detail) of one push that held operations, counted by code.
pub fn holds_alarm(held: &[(u64, Refusal)]) -> (String, String) {
    let mut codes: std::collections::BTreeMap<&str, usize> = Default::default();
    for (_, refusal) in held {
        *codes.entry(refusal.code).or_default() += 1;
    }
    let counted: Vec<String> = codes.iter().map(|(c, n)| format!("{c} ({n})")).collect();
    let (first, last) = (
        held.first().map(|h| h.0).unwrap_or(0),
        held.last().map(|h| h.0).unwrap_or(0),
    );
    let detail = format!(
        "{} operation(s) (site_seq {first}..={last}) held in quarantine, never merged: {}. Review them in 隔离审核",
        held.len(),
        counted.join(", ")
    );
    // One kind of hold keeps its own code (the district's clock screen lists the clock ones).
    let code = match codes.keys().next() {
        Some(&"late_after_transfer") if codes.len() == 1 => "late_write_after_transfer",
        Some(&c) if codes.len() == 1 => c,
        _ => "quarantine",
    };
    (code.to_string(), detail)
}

/// What a pull of one site may see: the tables it reads in its scope, those it reads only at its own
/// unit, and those that flow down from its ancestors (the district's settings).
pub struct PullScope {
    pub readable: Vec<&'static str>,
    pub own_unit: Vec<&'static str>,
    pub downward: Vec<&'static str>,
}

impl PullScope {
    /// For a site whose store has `store_schema`: tables introduced later are left out (issue 10 §4).
    pub fn of(site: &SiteAuth, store_schema: u32) -> PullScope {
        let known = |t: &TableDef| tables::introduced_in(t.name) <= store_schema;
        PullScope {
            readable: tables::TABLES
                .iter()
                .filter(|t| known(t))
                .filter(|t| {
                    scope::may_read_table(site.kind, t)
                        && !scope::only_at_own_unit(site.kind, t)
                        && !scope::flows_down(t)
                })
                .map(|t| t.name)
                .collect(),
            own_unit: tables::TABLES
                .iter()
                .filter(|t| known(t) && scope::only_at_own_unit(site.kind, t))
                .map(|t| t.name)
                .collect(),
            downward: tables::TABLES
                .iter()
                .filter(|t| known(t) && scope::flows_down(t))
                .map(|t| t.name)
                .collect(),
        }
    }

    /// Names the tables a pull cursor is given under (issue 10 §5: a cursor is only good for them).
    /// The site's units are not part of it: the org tree only grows by new units, which hold no rows
    /// before they exist, so a wider scope is served incrementally.
    pub fn fingerprint(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let json =
            |v: &Vec<&str>| serde_json::to_string(v).map_err(|e| ServerError::Store(e.to_string()));
        let mut hash = Sha256::new();
        for part in [
            json(&self.readable)?,
            json(&self.own_unit)?,
            json(&self.downward)?,
        ] {
            hash.update(part.as_bytes());
            hash.update([0u8]);
        }
        Ok(hex::encode(&hash.finalize()[..16]))
    }

    /// A record holds one site's batch across scopes and tables: what this site may see of it.
    pub fn visible(&self, site: &SiteAuth, op: &Operation) -> bool {
        let table = op.table.as_str();
        (site.covers(&op.scope) && self.readable.contains(&table))
            || (self.own_unit.contains(&table) && op.scope == site.org_unit_id)
            || (self.downward.contains(&table) && site.ancestors.contains(&op.scope))
    }

    /// Whether a row of `table` leaving the site's scope concerns the site.
    pub fn reads_rows_of(&self, table: &str) -> bool {
        self.readable.contains(&table) || self.own_unit.contains(&table)
    }
}

/// One row's move from one owning unit to another, in log order.
pub struct ScopeMove {
    pub table: String,
    pub row_id: String,
    pub from_unit: String,
    pub to_unit: String,
}

/// The rows that left the site's read scope over a window of moves (in log order): the last move of
/// each row in the window decides (a case handed over and back again within one window stays).
pub fn left_scope(
    site: &SiteAuth,
    moves: impl IntoIterator<Item = ScopeMove>,
    reads: impl Fn(&str) -> bool,
) -> Vec<RowRef> {
    let mut last: Vec<RowRef> = Vec::new();
    let mut leaves: HashMap<RowRef, bool> = HashMap::new();
    for found in moves {
        if !reads(&found.table) {
            continue;
        }
        let row = RowRef {
            table: found.table,
            id: found.row_id,
        };
        let left = site.covers(&found.from_unit) && !site.covers(&found.to_unit);
        let entered = site.covers(&found.to_unit);
        match leaves.get_mut(&row) {
            Some(state) => *state = left || (*state && !entered),
            None if left => {
                leaves.insert(row.clone(), true);
                last.push(row);
            }
            None => {}
        }
    }
    last.into_iter()
        .filter(|row| leaves.get(row).copied().unwrap_or(false))
        .collect()
}

/// Checks that one site's new operations continue its hash chain from `last_hash`, the hash of the
/// last operation the master accepted from it.
pub fn check_chain(last_hash: &str, ops: &[&Operation]) -> Result<()> {
    let mut prev = last_hash;
    for op in ops {
        if op.prev_hash != prev {
            return Err(ServerError::HashMismatch { seq: op.site_seq });
        }
        prev = &op.hash;
    }
    Ok(())
}

/// Checks that a site's new operations follow its cursor without a gap.
pub fn check_no_gap(last_seq: u64, new: &[&Operation]) -> Result<()> {
    for (expected, op) in (last_seq + 1..).zip(new.iter()) {
        if op.site_seq != expected {
            return Err(ServerError::Gap {
                expected,
                got: op.site_seq,
            });
        }
    }
    Ok(())
}

/// The owning unit of a row given its visible values (the row itself for the org tree).
pub fn owner_of(def: &TableDef, row_id: &str, value_of: impl Fn(&str) -> Option<String>) -> String {
    if def.scope_field == tables::ROW_ID_SCOPE {
        row_id.to_string()
    } else {
        value_of(def.scope_field).unwrap_or_default()
    }
}

/// Longest site name (characters) the site directory keeps.
pub const SITE_NAME_CHARS: usize = 100;

/// A site's name as the district gives it: trimmed, 1-100 characters.
pub fn site_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > SITE_NAME_CHARS {
        return Err(ServerError::BadRequest(format!(
            "a site name has 1-{SITE_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_string())
}

/// The org tree's shape: a district has no parent, a township sits under a district, a community
/// under a township.
pub fn check_org_parent(
    parent: Option<jiceng_core::model::OrgKind>,
    kind: jiceng_core::model::OrgKind,
) -> Result<()> {
    use jiceng_core::model::OrgKind;
    match (parent, kind) {
        (None, OrgKind::District) => Ok(()),
        (None, _) => Err(ServerError::BadRequest(
            "only a district has no parent".to_string(),
        )),
        (Some(OrgKind::District), OrgKind::Township)
        | (Some(OrgKind::Township), OrgKind::Community) => Ok(()),
        (Some(parent), _) => Err(ServerError::BadRequest(format!(
            "a {} cannot sit under a {}",
            kind.code(),
            parent.code()
        ))),
    }
}
