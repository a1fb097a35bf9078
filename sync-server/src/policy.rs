//! What a site may write into the master record, decided without knowing the database (issue 9).
//!
//! Two kinds of refusal (ARCHITECTURE.md "one poisoned operation never wedges a site's queue"):
//! - **protocol errors** only a broken client makes (an operation of another site, a hash that does not
//!   match its content, a site_seq of 0, a malformed row id) refuse the whole request, as a 4xx;
//! - **content** (a value core's validators refuse, a table or field the site may not write, a row
//!   outside its scope, a rewrite of an append-only record, a row without or moved away from its owner,
//!   a clock outside the allowed drift, a schema the server cannot read) holds that one operation: it is
//!   acknowledged and kept in quarantine with a code and a reason, never merged, and the rest of the
//!   batch merges.
//!
//! The guard asks the master only what it knows of a row ([`MasterFacts`]); it remembers what earlier
//! operations of the same batch created, so a row created and written in one push is judged the same
//! as one created in an earlier push.

use crate::error::{Result, ServerError};
use crate::master::SiteAuth;
use crate::scope;
use jiceng_core::merge::first_wins;
use jiceng_core::model::{OrgKind, Role};
use jiceng_core::op::{Operation, SCHEMA_VERSION};
use jiceng_core::permissions;
use jiceng_core::tables::{self, MergeKind, TableDef, ROW_ID_SCOPE};
use jiceng_core::validate::{self, Refusal, MAX_ROW_ID_CHARS};
use rustc_hash::FxHashMap as HashMap;
use serde_json::Value;

/// How far an operation's clock may be ahead of the server's (or behind the site's creation) before it
/// is held: the one drift setting (ARCHITECTURE.md "Clock safety").
pub const DEFAULT_MAX_DRIFT_MS: u64 = 60 * 60 * 1000;
/// No operation of this system was written before 2020-01-01 (the law it follows came into force in
/// 2020): an earlier clock is a PC whose battery died, not a record.
pub const EARLIEST_PLAUSIBLE_MS: u64 = 1_577_808_000_000;

/// What the master holds of one row, as the guard needs it.
#[derive(Debug, Clone, Default)]
pub struct RowFacts {
    /// The org unit the row belongs to (its scope field), if it has one.
    pub owner: Option<String>,
    /// The row's visible values by field (for append-only rows: what they were created with).
    pub values: HashMap<&'static str, Value>,
    /// Created by an earlier operation of the batch being judged: its other fields are still being
    /// written for the first time (the desktop never cuts one row's write across two pushes).
    pub created_in_batch: bool,
}

/// The questions the guard asks the master.
pub trait MasterFacts {
    /// The row as the master holds it (None: the master has never seen it).
    fn row(&self, def: &'static TableDef, row_id: &str) -> Result<Option<RowFacts>>;
    /// Whether the row belongs to a case that a completed L-6 transfer moved away from one of the
    /// site's units.
    fn moved_away(&self, site: &SiteAuth, def: &'static TableDef, row_id: &str) -> Result<bool>;
    /// A user of the district's directory: (role, org unit); None for an id the master does not know.
    fn user(&self, user_id: &str) -> Result<Option<(Role, String)>>;
}

/// The guard's verdict on one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Merge,
    Hold(Refusal),
}

/// Fields of an L-6 transfer that only the county's decision (the district's site) writes.
const TRANSFER_DECISION_FIELDS: &[&str] = &[
    "to_org_unit_id",
    "to_org_unit_name",
    "decided_on",
    "decided_by",
    "decision_note",
    "completed_on",
];
/// Statuses of an L-6 transfer an office may write itself: its application and its withdrawal.
const TRANSFER_OFFICE_STATUSES: &[&str] = &["applied", "cancelled"];

/// Judges one push's new operations, in site_seq order.
pub struct Guard<'a> {
    site: &'a SiteAuth,
    facts: &'a dyn MasterFacts,
    now_ms: u64,
    max_drift_ms: u64,
    /// Rows as this batch left them so far: None when the master never saw the row.
    rows: HashMap<(&'static str, String), Option<RowFacts>>,
    /// Authors looked up in this batch (a batch is mostly one or two users).
    users: HashMap<String, Option<(Role, String)>>,
}

impl<'a> Guard<'a> {
    pub fn new(
        site: &'a SiteAuth,
        facts: &'a dyn MasterFacts,
        now_ms: u64,
        max_drift_ms: u64,
    ) -> Guard<'a> {
        Guard {
            site,
            facts,
            now_ms,
            max_drift_ms,
            rows: HashMap::default(),
            users: HashMap::default(),
        }
    }

    /// The checks only a broken client fails: they refuse the whole request.
    pub fn check_protocol(&self, op: &Operation) -> Result<()> {
        let bad = |reason: &str| ServerError::BadOperation {
            seq: op.site_seq,
            reason: reason.to_string(),
        };
        if op.site_id != self.site.site_id {
            return Err(bad("site_id is not the authenticated site"));
        }
        if op.site_seq == 0 {
            return Err(bad("site_seq must start at 1"));
        }
        if op.row_id.is_empty()
            || op.row_id.chars().count() > MAX_ROW_ID_CHARS
            || op.row_id.chars().any(char::is_control)
        {
            return Err(bad(&format!(
                "row_id must have 1-{MAX_ROW_ID_CHARS} characters and no control characters"
            )));
        }
        if !op.hash_is_valid() {
            return Err(bad("hash does not match the operation's content"));
        }
        Ok(())
    }

    /// Judges one operation's content; an `Err` is the master failing, never the operation.
    pub fn judge(&mut self, op: &Operation) -> Result<Verdict> {
        let def = match self.check_shape(op) {
            Ok(def) => def,
            Err(refusal) => return Ok(Verdict::Hold(refusal)),
        };
        if let Err(refusal) = self.check_clock(op) {
            return Ok(Verdict::Hold(refusal));
        }
        if let Some(refusal) = self.check_author(def, op)? {
            return Ok(Verdict::Hold(refusal));
        }
        let key = (def.name, op.row_id.clone());
        if !self.rows.contains_key(&key) {
            let facts = self.facts.row(def, &op.row_id)?;
            self.rows.insert(key.clone(), facts);
        }
        // Borrowed, not cloned: a row's facts hold its visible values, and every operation asks.
        let verdict = match self.rows.get(&key).and_then(Option::as_ref) {
            None => self.judge_new_row(def, op),
            Some(row) => self.judge_existing_row(def, op, row)?,
        };
        if verdict == Verdict::Merge {
            let entry = self.rows.entry(key).or_insert(None);
            let row = entry.get_or_insert_with(|| RowFacts {
                created_in_batch: true,
                ..RowFacts::default()
            });
            if op.field == owner_field(def) {
                row.owner = op.value.as_str().map(str::to_string);
            }
            if let Some(field) = def.field(&op.field) {
                // Append-only rows show their first value; mutable rows their last (in site order).
                if !(first_wins(def.merge, field.name) && row.values.contains_key(field.name)) {
                    row.values.insert(field.name, op.value.clone());
                }
            }
        }
        Ok(verdict)
    }

    /// Table, field, schema, author, value and write permission.
    fn check_shape(&self, op: &Operation) -> Result<&'static TableDef, Refusal> {
        let def = tables::table(&op.table).ok_or_else(|| {
            Refusal::new(
                "unknown_table",
                format!("unknown table {:?}", clip(&op.table)),
                format!("服务器不认识数据表“{}”", clip(&op.table)),
            )
        })?;
        if op.schema_version > SCHEMA_VERSION {
            return Err(Refusal::new(
                "upgrade_server",
                format!(
                    "written by schema version {}; this server knows up to {SCHEMA_VERSION}. Upgrade the server",
                    op.schema_version
                ),
                "本机软件比同步服务器新，服务器暂时无法读取这条记录，请联系区司法局升级同步服务器",
            ));
        }
        let field = def.field(&op.field).ok_or_else(|| {
            Refusal::new(
                "unknown_field",
                format!("unknown field {}.{}", def.name, clip(&op.field)),
                format!("服务器不认识字段{}.{}", def.name, clip(&op.field)),
            )
        })?;
        validate::check_user_id(&op.user_id)?;
        validate::check_value(def, field, &op.value)?;
        let own_unit_field = scope::may_write_own_unit_field(def, &op.field);
        if !scope::may_write_table(self.site.kind, def) && !own_unit_field {
            return Err(Refusal::new(
                "table_not_writable",
                format!(
                    "a {} site may not write {}",
                    self.site.kind.code(),
                    def.name
                ),
                format!("本站无权写入“{}”类记录", def.name),
            ));
        }
        if !self.site.covers(&op.scope) {
            return Err(out_of_scope(&format!(
                "org unit {} is not under this site",
                clip(&op.scope)
            )));
        }
        // Issue 11 §4: accounts are kept by the PCs of the user's own unit.
        if scope::written_only_at_own_unit(def) && op.scope != self.site.org_unit_id {
            return Err(out_of_scope(&format!(
                "{} rows are written only by the sites of their own unit, not by {}",
                def.name,
                clip(&self.site.org_unit_id)
            )));
        }
        if def.name == "corr_transfer" && self.site.kind != OrgKind::District {
            let decision_field = TRANSFER_DECISION_FIELDS.contains(&op.field.as_str());
            let decision_status = op.field == "status"
                && !op
                    .value
                    .as_str()
                    .is_some_and(|s| TRANSFER_OFFICE_STATUSES.contains(&s));
            if decision_field || decision_status {
                return Err(Refusal::new(
                    "transfer_decision_reserved",
                    format!(
                        "L-6: only the county's decision (the district's site) writes corr_transfer.{}",
                        op.field
                    ),
                    "执行地变更的批准、不予批准和完成交接只能由区（县）司法局作出（L-6）",
                ));
            }
        }
        Ok(def)
    }

    /// Issue 11 §5: the author of an operation is a user of the district's directory, belongs to the
    /// sending site's units and holds a role the permission matrix lets write the table. Accounts are
    /// made only at the district and reach a site before anyone can sign in there, so every honest
    /// operation names a user the master knows; an id it does not know is made up.
    fn check_author(&mut self, def: &'static TableDef, op: &Operation) -> Result<Option<Refusal>> {
        if !self.users.contains_key(&op.user_id) {
            let found = self.facts.user(&op.user_id)?;
            self.users.insert(op.user_id.clone(), found);
        }
        let Some((role, unit)) = self.users.get(&op.user_id).cloned().flatten() else {
            return Ok(Some(Refusal::new(
                "unknown_author",
                format!(
                    "the author {} is not a user of the district's directory",
                    clip(&op.user_id)
                ),
                "这条记录署名的用户不在区里的账号目录中，服务器不予接收",
            )));
        };
        if !self.site.covers(&unit) {
            return Ok(Some(Refusal::new(
                "user_not_of_site",
                format!(
                    "user {} belongs to org unit {}, which is not under this site",
                    clip(&op.user_id),
                    clip(&unit)
                ),
                "这条记录署名的用户不属于本站，服务器不予接收",
            )));
        }
        let Some((area, need)) = permissions::needed_to_write(def) else {
            return Ok(None);
        };
        if permissions::may(role, area, need) {
            return Ok(None);
        }
        Ok(Some(Refusal::new(
            "role_not_permitted",
            format!(
                "a {} may not write {} (permission matrix)",
                role.code(),
                def.name
            ),
            format!("按权限表，该用户的角色无权写入“{}”类记录", def.name),
        )))
    }

    /// ARCHITECTURE.md "Clock safety", both ways.
    fn check_clock(&self, op: &Operation) -> Result<(), Refusal> {
        let at = op.hlc.millis();
        if at > self.now_ms.saturating_add(self.max_drift_ms) {
            let minutes = (at - self.now_ms) / 60_000;
            return Err(Refusal::new(
                "future_clock",
                format!("future_clock: {minutes} min ahead of the server"),
                format!("本机时钟比服务器快约{minutes}分钟，这条记录的时间不可信"),
            ));
        }
        let earliest = self
            .site
            .created_at_ms
            .saturating_sub(self.max_drift_ms)
            .max(EARLIEST_PLAUSIBLE_MS);
        if at < earliest {
            let minutes = (earliest - at) / 60_000;
            return Err(Refusal::new(
                "past_clock",
                format!("past_clock: stamped {minutes} min before this site existed"),
                "这条记录的时间早于本机注册的时间，本机时钟可能被调慢，时间不可信",
            ));
        }
        Ok(())
    }

    /// A row the master has never seen: its first operation names its owner (ARCHITECTURE.md "A row's
    /// owner is fixed at creation").
    fn judge_new_row(&self, def: &'static TableDef, op: &Operation) -> Verdict {
        let owner_field = owner_field(def);
        if op.field != owner_field {
            return Verdict::Hold(Refusal::new(
                "row_without_owner",
                format!(
                    "{} {} is new and its first operation does not name its org unit ({owner_field})",
                    def.name,
                    clip(&op.row_id)
                ),
                "新记录没有写明所属单位，服务器不予接收",
            ));
        }
        let owner = op.value.as_str().unwrap_or_default();
        if owner.is_empty() || !self.site.covers(owner) {
            return Verdict::Hold(out_of_scope(&format!(
                "{} {} would belong to org unit {}, which is not under this site",
                def.name,
                clip(&op.row_id),
                clip(owner)
            )));
        }
        Verdict::Merge
    }

    fn judge_existing_row(
        &self,
        def: &'static TableDef,
        op: &Operation,
        row: &RowFacts,
    ) -> Result<Verdict> {
        let district = self.site.kind == OrgKind::District;
        let owner = row.owner.as_deref().unwrap_or_default();
        if owner.is_empty() && !district {
            return Ok(Verdict::Hold(Refusal::new(
                "row_without_owner",
                format!(
                    "{} {} has no org unit; only the district may give it one",
                    def.name,
                    clip(&op.row_id)
                ),
                "这条记录没有所属单位，只有区里可以指定",
            )));
        }
        if !owner.is_empty() && !self.site.covers(owner) {
            if self.facts.moved_away(self.site, def, &op.row_id)? {
                // L-6: written offline by the office the case was handed away from.
                return Ok(Verdict::Hold(Refusal::new(
                    "late_after_transfer",
                    format!(
                        "late_after_transfer: {} {} was written after its case was transferred away",
                        def.name,
                        clip(&op.row_id)
                    ),
                    "案件已移交新执行地，本机在移交后所做的修改未被接受，请与区司法局联系",
                )));
            }
            return Ok(Verdict::Hold(out_of_scope(&format!(
                "{} {} belongs to org unit {}",
                def.name,
                clip(&op.row_id),
                clip(owner)
            ))));
        }
        let owner_field = owner_field(def);
        if op.field == owner_field && op.value.as_str().unwrap_or_default() != owner {
            let target = op.value.as_str().unwrap_or_default();
            // Only the county's L-6 decision moves a record, from the district's site, and only
            // to a unit of the district.
            if !district || target.is_empty() || !self.site.covers(target) {
                return Ok(Verdict::Hold(Refusal::new(
                    "owner_change",
                    format!(
                        "{} {} belongs to {}; only the district's transfer decision (L-6) moves a record",
                        def.name,
                        clip(&op.row_id),
                        clip(owner)
                    ),
                    "记录的所属单位只能通过区司法局的执行地变更决定（L-6）改变",
                )));
            }
        }
        let written = row.values.get(op.field.as_str());
        let first_write_at_creation = row.created_in_batch && written.is_none();
        if def.merge == MergeKind::AppendOnly
            && first_wins(def.merge, &op.field)
            && op.field != owner_field
            && !first_write_at_creation
            && written.unwrap_or(&Value::Null) != &op.value
        {
            return Ok(Verdict::Hold(Refusal::new(
                "append_only",
                format!(
                    "{}.{} of {} was written at its creation and is never rewritten",
                    def.name,
                    op.field,
                    clip(&op.row_id)
                ),
                "这类记录一经登记不得修改（只可撤销），改动未被接受",
            )));
        }
        Ok(Verdict::Merge)
    }
}

/// The field naming a row's owner (`id` for org units, whose own id is their scope).
fn owner_field(def: &TableDef) -> &'static str {
    if def.scope_field == ROW_ID_SCOPE {
        "id"
    } else {
        def.scope_field
    }
}

fn out_of_scope(reason: &str) -> Refusal {
    Refusal::new(
        "out_of_scope",
        format!("outside this site's write scope: {reason}"),
        "这条记录不属于本站管辖范围，服务器不予接收",
    )
}

/// A name from a request, short and printable, for a reason.
fn clip(text: &str) -> String {
    text.chars()
        .take(64)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}
