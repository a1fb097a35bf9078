//! L-6 two-phase transfer of a case between judicial offices on the local store (core::transfer has the
//! state machine). The handover works through the ordinary log: the district republishes every record
//! of the case under the receiving office's scope (store::write::republish_row), first read-only while
//! in transfer, then moved for good.

use super::{Store, WriteChange};
use crate::deadlines::Moment;
use crate::error::{CoreError, Result};
use crate::model::{CaseRecord, OrgKind, SessionUser};
use crate::shanghai;
use crate::tables::{self, Domain, TableDef, ROW_ID_SCOPE};
use crate::transfer::{
    self, Party, TransferAction, TransferError, TransferInput, TransferRecord, TransferStatus,
    TransferStep,
};
use rusqlite::OptionalExtension;

const MAX_TEXT_CHARS: usize = 500;

impl From<TransferError> for CoreError {
    fn from(e: TransferError) -> Self {
        CoreError::invalid("transfer", e.to_string(), e.message_zh())
    }
}

fn table(name: &'static str) -> Result<&'static TableDef> {
    tables::table(name).ok_or(CoreError::NotFound("table"))
}

fn day(text: &str, field: &'static str, zh: &'static str) -> Result<chrono::NaiveDate> {
    shanghai::parse_date(text)
        .ok_or_else(|| CoreError::invalid(field, "date must be YYYY-MM-DD", zh))
}

/// The tables holding a case's records: the case itself and every corrections table with a `case_id`.
/// Location events stay behind: L-7 keeps location data at the office that collected it.
fn case_tables() -> impl Iterator<Item = &'static TableDef> {
    tables::TABLES.iter().filter(|t| {
        t.domain == Domain::Corrections
            && t.scope_field != ROW_ID_SCOPE
            && (t.name == "corr_case" || t.field("case_id").is_some())
    })
}

impl Store {
    /// The sending office records the subject's written application (L-6: a month ahead of the move).
    pub fn apply_transfer(
        &mut self,
        user: &SessionUser,
        input: TransferInput,
    ) -> Result<TransferRecord> {
        let case = self.case_for_write(user, &input.case_id)?;
        if case.status != crate::model::CaseStatus::InCorrection
            && case.status != crate::model::CaseStatus::Reported
        {
            return Err(CoreError::invalid(
                "case_id",
                "only a case under correction can change its place of execution",
                "只有在矫（已报到）的案件才能申请变更执行地",
            ));
        }
        if self
            .transfers_of(&case.id)?
            .iter()
            .any(|t| t.status.is_open())
        {
            return Err(CoreError::invalid(
                "case_id",
                "a transfer of this case is already under way",
                "该案件已有正在办理的变更执行地申请",
            ));
        }
        let destination = input.destination.trim().to_string();
        let reason = input.reason.trim().to_string();
        if destination.is_empty()
            || reason.is_empty()
            || destination.chars().count() > MAX_TEXT_CHARS
            || reason.chars().count() > MAX_TEXT_CHARS
        {
            return Err(CoreError::invalid(
                "destination",
                "destination and reason are required",
                "请填写变更后的居住地（执行地）和变更原因",
            ));
        }
        let move_on = day(&input.move_on, "move_on", "搬迁日期格式应为YYYY-MM-DD")?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        if move_on < today {
            return Err(CoreError::invalid(
                "move_on",
                "the move lies in the past",
                "搬迁日期不能早于今天",
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let from_name = self.org_unit_name(&case.org_unit_id)?.unwrap_or_default();
        self.write_row(
            &user.user_id,
            table("corr_transfer")?,
            &id,
            &case.org_unit_id,
            &[
                WriteChange::new("org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("case_id", case.id.clone()),
                WriteChange::new("from_org_unit_id", case.org_unit_id.clone()),
                WriteChange::new("from_org_unit_name", from_name),
                WriteChange::new("destination", destination),
                WriteChange::new("reason", reason),
                WriteChange::new("applied_on", today.format("%Y-%m-%d").to_string()),
                WriteChange::new("move_on", move_on.format("%Y-%m-%d").to_string()),
                WriteChange::new("status", TransferStatus::Applied.code()),
            ],
        )?;
        self.transfer(&id)
    }

    /// One step of the handoff by whichever party takes it (core::transfer::next decides).
    pub fn act_on_transfer(
        &mut self,
        user: &SessionUser,
        transfer_id: &str,
        step: TransferStep,
    ) -> Result<TransferRecord> {
        self.require_write(user)?;
        let current = self.transfer(transfer_id)?;
        let case = self.case_in_scope(user, &current.case_id)?;
        let party = self.party_of(user, &current)?;
        let next = transfer::next(current.status, step.action, party)?;
        let today = shanghai::today(self.corrected_wall_millis()?);
        let today_text = today.format("%Y-%m-%d").to_string();
        let def = table("corr_transfer")?;
        // The transfer row lives with the case's current office (its scope) until the handover ends.
        let scope = case.org_unit_id.clone();
        match step.action {
            TransferAction::Approve => {
                let to = step.to_org_unit_id.as_deref().unwrap_or("");
                if self.org_unit_kind(to)? != Some(OrgKind::Township)
                    || to == current.from_org_unit_id
                {
                    return Err(CoreError::invalid(
                        "to_org_unit_id",
                        "pick the receiving judicial office (another township)",
                        "请选择新执行地的司法所（须为另一街道或乡镇）",
                    ));
                }
                let to_name = self.org_unit_name(to)?.unwrap_or_default();
                self.write_row(
                    &user.user_id,
                    def,
                    transfer_id,
                    &scope,
                    &[
                        WriteChange::new("status", next.code()),
                        WriteChange::new("to_org_unit_id", to.to_string()),
                        WriteChange::new("to_org_unit_name", to_name),
                        WriteChange::new("decided_on", today_text),
                        WriteChange::new("decided_by", user.display_name.clone()),
                        WriteChange::new("decision_note", bounded_note(&step.note)?),
                    ],
                )?;
                // Phase 1: the receiving office gets the whole file, still owned by the sender.
                self.republish_case(user, &case, to, None)?;
            }
            TransferAction::Refuse => {
                let note = bounded_note(&step.note)?;
                if note.is_empty() {
                    return Err(CoreError::invalid(
                        "note",
                        "a refusal needs its reasons",
                        "不予批准须写明理由",
                    ));
                }
                self.write_row(
                    &user.user_id,
                    def,
                    transfer_id,
                    &scope,
                    &[
                        WriteChange::new("status", next.code()),
                        WriteChange::new("decided_on", today_text),
                        WriteChange::new("decided_by", user.display_name.clone()),
                        WriteChange::new("decision_note", note),
                    ],
                )?;
            }
            TransferAction::Cancel => {
                self.write_row(
                    &user.user_id,
                    def,
                    transfer_id,
                    &scope,
                    &[WriteChange::new("status", next.code())],
                )?;
            }
            TransferAction::FileSent => {
                let on = self.step_day(&step, &current.decided_on, today)?;
                self.write_row(
                    &user.user_id,
                    def,
                    transfer_id,
                    &scope,
                    &[WriteChange::new("file_sent_on", on)],
                )?;
            }
            TransferAction::ConfirmReport => {
                let on = self.step_day(&step, &current.decided_on, today)?;
                // In the receiving office's own scope: it cannot write the sender's records.
                self.write_row(
                    &user.user_id,
                    table("corr_transfer_receipt")?,
                    transfer_id,
                    &current.to_org_unit_id,
                    &[
                        WriteChange::new("org_unit_id", current.to_org_unit_id.clone()),
                        WriteChange::new("case_id", current.case_id.clone()),
                        WriteChange::new("reported_on", on),
                        WriteChange::new("confirmed_by", user.display_name.clone()),
                        WriteChange::new("confirmed_on", today_text),
                    ],
                )?;
            }
            TransferAction::Complete => {
                // The sending office learns that its part ended, then every record moves.
                self.write_row(
                    &user.user_id,
                    def,
                    transfer_id,
                    &scope,
                    &[
                        WriteChange::new("status", next.code()),
                        WriteChange::new("completed_on", today_text),
                    ],
                )?;
                let to = current.to_org_unit_id.clone();
                self.republish_case(user, &case, &to, Some(&to))?;
            }
        }
        self.transfer(transfer_id)
    }

    /// Logs every record of the case again under `scope` (moving them to `move_to` when given).
    fn republish_case(
        &mut self,
        user: &SessionUser,
        case: &CaseRecord,
        scope: &str,
        move_to: Option<&str>,
    ) -> Result<()> {
        let overrides: Vec<WriteChange> = move_to
            .map(|unit| vec![WriteChange::new("org_unit_id", unit.to_string())])
            .unwrap_or_default();
        for def in case_tables() {
            let ids: Vec<String> = if def.name == "corr_case" {
                vec![case.id.clone()]
            } else {
                let mut stmt = self
                    .conn
                    .prepare(&format!("SELECT id FROM {} WHERE case_id = ?1", def.name))?;
                let rows = stmt.query_map([&case.id], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<Vec<String>>>()?
            };
            for id in ids {
                // The receipt is already the receiving office's.
                if def.name == "corr_transfer_receipt" && move_to.is_none() {
                    continue;
                }
                self.republish_row(&user.user_id, def, &id, scope, &overrides)?;
            }
        }
        Ok(())
    }

    fn step_day(
        &self,
        step: &TransferStep,
        decided_on: &str,
        today: chrono::NaiveDate,
    ) -> Result<String> {
        let on = day(
            step.on.as_deref().unwrap_or(""),
            "on",
            "日期格式应为YYYY-MM-DD",
        )?;
        let decided = shanghai::parse_date(decided_on).unwrap_or(on);
        if on > today || on < decided {
            return Err(CoreError::invalid(
                "on",
                "the day lies before the decision or in the future",
                "日期应在变更决定之后且不晚于今天",
            ));
        }
        Ok(on.format("%Y-%m-%d").to_string())
    }

    fn party_of(&self, user: &SessionUser, t: &TransferRecord) -> Result<Party> {
        if self.org_unit_kind(&user.org_unit_id)? == Some(OrgKind::District) {
            return Ok(Party::County);
        }
        if !t.to_org_unit_id.is_empty() && self.is_within(&t.to_org_unit_id, &user.org_unit_id)? {
            return Ok(Party::Receiving);
        }
        if self.is_within(&t.from_org_unit_id, &user.org_unit_id)? {
            return Ok(Party::Sending);
        }
        Err(CoreError::NotFound("transfer"))
    }

    fn transfer(&self, id: &str) -> Result<TransferRecord> {
        self.transfers_where("t.id = ?1", id)?
            .into_iter()
            .next()
            .ok_or(CoreError::NotFound("transfer"))
    }

    pub(super) fn transfers_of(&self, case_id: &str) -> Result<Vec<TransferRecord>> {
        self.transfers_where("t.case_id = ?1", case_id)
    }

    fn transfers_where(&self, condition: &str, arg: &str) -> Result<Vec<TransferRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT t.id, t.case_id, t.from_org_unit_id, t.from_org_unit_name, t.to_org_unit_id, \
             t.to_org_unit_name, t.destination, t.reason, t.applied_on, t.move_on, t.status, t.decided_on, \
             t.decided_by, t.decision_note, t.file_sent_on, t.completed_on, r.reported_on, r.confirmed_by \
             FROM corr_transfer t LEFT JOIN corr_transfer_receipt r ON r.id = t.id AND COALESCE(r._deleted, 0) = 0 \
             WHERE {condition} AND COALESCE(t._deleted, 0) = 0 ORDER BY t.applied_on DESC, t.id DESC"
        ))?;
        let rows = stmt.query_map([arg], |r| {
            let mut v: Vec<String> = Vec::with_capacity(18);
            for i in 0..18 {
                v.push(r.get::<_, Option<String>>(i)?.unwrap_or_default());
            }
            Ok(v)
        })?;
        let engine = self.engine()?;
        let mut out = Vec::new();
        for row in rows {
            let v = row?;
            // A row still arriving through sync may be incomplete: skip it until it is whole.
            let Some(mut status) = TransferStatus::from_code(&v[10]) else {
                continue;
            };
            let reported_on = v[16].clone();
            if status == TransferStatus::InTransit && !reported_on.is_empty() {
                status = TransferStatus::Received;
            }
            let (apply_by, late) = match shanghai::parse_date(&v[9]) {
                Some(move_on) => {
                    let rule = engine
                        .table()
                        .rule("L-6.apply_ahead")
                        .map_err(|e| CoreError::Corrupt(e.to_string()))?;
                    let by = rule
                        .due(engine.calendar(), Moment::Day(move_on))
                        .map_err(|e| CoreError::Corrupt(e.to_string()))?
                        .due_date;
                    let late = shanghai::parse_date(&v[8]).is_some_and(|a| a > by);
                    (by.format("%Y-%m-%d").to_string(), late)
                }
                None => (String::new(), false),
            };
            out.push(TransferRecord {
                id: v[0].clone(),
                case_id: v[1].clone(),
                from_org_unit_id: v[2].clone(),
                from_org_unit_name: v[3].clone(),
                to_org_unit_id: v[4].clone(),
                to_org_unit_name: v[5].clone(),
                destination: v[6].clone(),
                reason: v[7].clone(),
                applied_on: v[8].clone(),
                move_on: v[9].clone(),
                apply_by,
                late_application: late,
                status,
                decided_on: v[11].clone(),
                decided_by: v[12].clone(),
                decision_note: v[13].clone(),
                file_sent_on: v[14].clone(),
                reported_on,
                confirmed_by: v[17].clone(),
                completed_on: v[15].clone(),
            });
        }
        Ok(out)
    }

    /// The judicial offices (townships) under the user's unit, by name: where the county may send a case.
    pub fn judicial_offices(&self, user: &SessionUser) -> Result<Vec<crate::model::OrgUnitRef>> {
        self.require_read(user)?;
        let scope = self.org_subtree(&user.org_unit_id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name FROM org_unit WHERE kind = 'township' AND COALESCE(_deleted, 0) = 0 \
             AND id IN (SELECT value FROM json_each(?1)) ORDER BY name",
        )?;
        let scope_json =
            serde_json::to_string(&scope).map_err(|e| CoreError::Corrupt(e.to_string()))?;
        let rows = stmt.query_map([scope_json], |r| {
            Ok(crate::model::OrgUnitRef {
                id: r.get(0)?,
                name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Whether the case is being handed to an office within `unit` (it may then read the case).
    pub(super) fn in_transfer_to(&self, case_id: &str, unit: &str) -> Result<bool> {
        let to: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT to_org_unit_id FROM corr_transfer WHERE case_id = ?1 AND status = 'in_transit' \
                 AND COALESCE(_deleted, 0) = 0 LIMIT 1",
            )?
            .query_row([case_id], |r| r.get(0))
            .optional()?
            .flatten();
        match to {
            Some(to) => self.is_within(&to, unit),
            None => Ok(false),
        }
    }

    /// The receiving office this site's copy of the case went to, once the handover completed.
    pub(super) fn transferred_out_to(&self, case: &CaseRecord) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT to_org_unit_name FROM corr_transfer WHERE case_id = ?1 AND status = 'completed' \
                 AND from_org_unit_id = ?2 AND COALESCE(_deleted, 0) = 0 LIMIT 1",
            )?
            .query_row([&case.id, &case.org_unit_id], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()?
            .map(Option::unwrap_or_default))
    }

    /// Issue 10 §5: a case this office handed over is gone from its store (the file went with the
    /// case); its handover record says where, for a clerk who follows an old link or number.
    pub(super) fn handed_over_error(&self, case_id: &str) -> Result<Option<CoreError>> {
        let found: Option<(Option<String>, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT to_org_unit_name, completed_on FROM corr_transfer WHERE case_id = ?1 \
                 AND status = 'completed' AND COALESCE(_deleted, 0) = 0 ORDER BY completed_on DESC LIMIT 1",
            )?
            .query_row([case_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(found.map(|(to, on)| {
            let to = to.unwrap_or_default();
            let on = on.unwrap_or_default();
            CoreError::invalid(
                "case_id",
                format!("the case was handed over to {to} on {on}; its file left this PC"),
                format!("该案件已于{on}变更执行地至{to}，案卷已随案移交，本机不再保存；如需查阅请联系区司法局"),
            )
        }))
    }

    /// A case the user may change: in scope, owned by the user's office (an office receiving a case in
    /// transfer reads it only), and not a copy left behind by a completed transfer.
    pub(super) fn case_for_write(&self, user: &SessionUser, case_id: &str) -> Result<CaseRecord> {
        self.require_write(user)?;
        let case = self.case_in_scope(user, case_id)?;
        if !self.is_within(&case.org_unit_id, &user.org_unit_id)? {
            return Err(CoreError::invalid(
                "case_id",
                "the case is still being handed over: it can be read, not changed",
                "该案件正在办理变更执行地交接，交接完成前只能查看",
            ));
        }
        if let Some(to) = self.transferred_out_to(&case)? {
            return Err(CoreError::invalid(
                "case_id",
                "the case was transferred to another office",
                format!("该案件已变更执行地至{to}，原司法所只能查看"),
            ));
        }
        Ok(case)
    }
}

fn bounded_note(note: &str) -> Result<String> {
    let note = note.trim().to_string();
    if note.chars().count() > MAX_TEXT_CHARS {
        return Err(CoreError::invalid("note", "note is too long", "意见过长"));
    }
    Ok(note)
}
