//! The registry of replicated tables: which fields exist, how they merge, and who may see them.
//!
//! Sync accepts an operation only for a (table, field) listed here, so the server refuses unknown names
//! with a 4xx before touching the master. Table and field names are used as SQL identifiers only after
//! they matched this list.

/// How a table's rows merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeKind {
    /// Fields merge by last-writer-wins with conflict items for concurrent different values.
    Mutable,
    /// Rows are inserted once and never edited (check-ins, labour entries…); only the reversible
    /// `_deleted` flag may change later. They never conflict.
    AppendOnly,
}

/// Which kind of site may hold a table's rows (scope is closed by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// The org tree and users: every site in scope.
    Directory,
    /// 社区矫正: judicial offices and the district only, never a community workstation.
    Corrections,
    /// W-: the community workstation's residents' affairs: its own community and the district only.
    Residents,
    /// L-7 location data: the judicial office's own sites only, not even the district.
    CorrectionsOffice,
    /// The district's settings (rule table, holiday calendar): written by the district, read by every
    /// site under it.
    Settings,
    /// Issue 11 §4: what happens to accounts (failed logins, password changes and resets): written on
    /// any PC of the user's unit, read there and by the district.
    Accounts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Integer,
    Bool,
}

#[derive(Debug)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: FieldType,
}

#[derive(Debug)]
pub struct TableDef {
    pub name: &'static str,
    pub merge: MergeKind,
    pub domain: Domain,
    /// The field naming the org unit a row belongs to (the row's scope).
    pub scope_field: &'static str,
    pub fields: &'static [FieldDef],
}

/// `scope_field` value meaning "the row's own id is its scope".
pub const ROW_ID_SCOPE: &str = "id";

/// The reversible deletion flag every table carries (DOMAIN.md "Nothing is lost").
pub const DELETED_FIELD: &str = "_deleted";

/// The owning unit of every append-only table's rows. Unlike their other fields it follows the
/// latest version: the district's L-6 transfer decision moves a case's check-ins and entries to the
/// receiving office, and every replica must show the move (a test holds each append-only table to
/// this name).
pub const APPEND_ONLY_OWNER_FIELD: &str = "org_unit_id";

const fn text(name: &'static str) -> FieldDef {
    FieldDef {
        name,
        ty: FieldType::Text,
    }
}
const fn integer(name: &'static str) -> FieldDef {
    FieldDef {
        name,
        ty: FieldType::Integer,
    }
}
const fn boolean(name: &'static str) -> FieldDef {
    FieldDef {
        name,
        ty: FieldType::Bool,
    }
}

pub static TABLES: &[TableDef] = &[
    TableDef {
        name: "org_unit",
        merge: MergeKind::Mutable,
        domain: Domain::Directory,
        // An org unit is in its own scope, so a site sees the units of its subtree.
        scope_field: ROW_ID_SCOPE,
        fields: &[
            text("parent_id"),
            text("kind"),
            text("name"),
            boolean(DELETED_FIELD),
        ],
    },
    TableDef {
        name: "app_user",
        merge: MergeKind::Mutable,
        domain: Domain::Directory,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("username"),
            text("display_name"),
            text("role"),
            text("password_hash"),
            boolean(DELETED_FIELD),
        ],
    },
    // C-1, C-7: the corrections case.
    TableDef {
        name: "corr_case",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("name"),
            text("id_number"),
            text("sex"),
            text("birth_date"),
            text("kind"),
            text("sentence_start"),
            text("sentence_end"),
            text("status"),
            text("judgment_effective_on"),
            text("reported_on"),
            text("supervision_level"),
            boolean("sealed_minor"),
            text("address"),
            text("officer_id"),
            text("priority_groups"),
            boolean(DELETED_FIELD),
        ],
    },
    // C-16: check-ins are append-only.
    TableDef {
        name: "corr_checkin",
        merge: MergeKind::AppendOnly,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("occurred_at"),
            text("method"),
            text("note"),
            text("recorded_by"),
            boolean(DELETED_FIELD),
        ],
    },
    // C-10..C-12, C-15, C-16, L-8: supervision entries are append-only.
    TableDef {
        name: "corr_entry",
        merge: MergeKind::AppendOnly,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("kind"),
            text("occurred_on"),
            integer("minutes"),
            integer("days"),
            text("ref_entry_id"),
            text("note"),
            text("recorded_by"),
            boolean(DELETED_FIELD),
        ],
    },
    // L-5 leave requests: a mutable record whose status is a small state machine (core::leave).
    TableDef {
        name: "corr_leave",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("destination"),
            text("reason"),
            text("start_on"),
            text("end_on"),
            text("requested_on"),
            text("approval_level"),
            text("status"),
            text("provisional_no"),
            text("decided_by"),
            text("decided_on"),
            text("decision_note"),
            text("returned_on"),
            boolean(DELETED_FIELD),
        ],
    },
    // C-14 assessments: append-only; a correction is a newer assessment of the same period.
    TableDef {
        name: "corr_assessment",
        merge: MergeKind::AppendOnly,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("period"),
            text("assessed_on"),
            integer("score_conduct"),
            integer("score_reporting"),
            integer("score_study"),
            integer("score_labour"),
            text("grade"),
            text("opinion"),
            text("assessor"),
            boolean(DELETED_FIELD),
        ],
    },
    // W-1 residents' register of a community.
    TableDef {
        name: "resident",
        merge: MergeKind::Mutable,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("name"),
            text("id_number"),
            text("sex"),
            text("birth_date"),
            text("phone"),
            text("building"),
            text("unit"),
            text("room"),
            text("household_head"),
            text("special_groups"),
            text("note"),
            text("merged_into"),
            boolean(DELETED_FIELD),
        ],
    },
    // W-2 appeals and complaints; clocks from L-14 / L-15.
    TableDef {
        name: "appeal",
        merge: MergeKind::Mutable,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("channel"),
            text("class"),
            text("category"),
            text("petitioner_name"),
            text("petitioner_phone"),
            text("subject"),
            text("content"),
            text("received_on"),
            text("departments"),
            text("lead_department"),
            text("status"),
            boolean("extended"),
            text("result"),
            text("resolved_on"),
            text("satisfaction"),
            text("followed_up_on"),
            integer("reminders"),
            // One person index: optional, GB 11643-checked when given.
            text("petitioner_id_number"),
            // W-2 whistle-blower protection: the complained-about department's slip masks the petitioner.
            boolean("whistleblower"),
            text("complained_department"),
            boolean(DELETED_FIELD),
        ],
    },
    // C-7 family members and social relations, C-8 / L-4 the supervision team, C-22 volunteers.
    TableDef {
        name: "corr_person",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("role"),
            text("team_role"),
            text("name"),
            text("sex"),
            text("relation"),
            text("phone"),
            text("work_unit"),
            text("note"),
            boolean(DELETED_FIELD),
        ],
    },
    // C-8 correction plan and C-9 supervision agreement: one row per case (row id = case id).
    TableDef {
        name: "corr_plan",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("plan_text"),
            text("made_on"),
            boolean("made_with_police"),
            text("agreement_signed_on"),
            text("guarantor_person_id"),
            text("guarantor_kind"),
            boolean(DELETED_FIELD),
        ],
    },
    // C-3..C-5, L-1, L-9, L-10, C-17, C-18, C-20: legal documents received and issued.
    TableDef {
        name: "corr_document",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("doc_type"),
            text("doc_no"),
            text("counterpart"),
            text("dated_on"),
            text("time_of_day"),
            text("note"),
            text("recorded_by"),
            boolean(DELETED_FIELD),
        ],
    },
    // L-13 / C-24: the procuratorate's opinions and recommendations, and the written replies.
    TableDef {
        name: "corr_recommendation",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("kind"),
            text("procuratorate"),
            text("doc_no"),
            text("received_on"),
            text("content"),
            boolean("adopted"),
            text("reply_on"),
            text("reply_text"),
            boolean(DELETED_FIELD),
        ],
    },
    // C-23: work meetings and serious incidents reported upward.
    TableDef {
        name: "corr_meeting",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("kind"),
            text("held_on"),
            text("topic"),
            text("attendees"),
            text("minutes"),
            text("reported_on"),
            text("reported_to"),
            text("recorded_by"),
            boolean(DELETED_FIELD),
        ],
    },
    // L-2 pre-decision community assessment requests (core::investigation).
    TableDef {
        name: "corr_investigation",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("name"),
            text("id_number"),
            text("organ"),
            text("organ_name"),
            text("proposed_kind"),
            text("offence"),
            text("residence"),
            text("received_on"),
            boolean("fast_track"),
            text("status"),
            text("opinion"),
            text("opinion_on"),
            text("opinion_summary"),
            boolean(DELETED_FIELD),
        ],
    },
    // L-6 change of the place of execution (two-phase handoff, core::transfer).
    TableDef {
        name: "corr_transfer",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("from_org_unit_id"),
            text("from_org_unit_name"),
            text("to_org_unit_id"),
            text("to_org_unit_name"),
            text("destination"),
            text("reason"),
            text("applied_on"),
            text("move_on"),
            text("status"),
            text("decided_on"),
            text("decided_by"),
            text("decision_note"),
            text("file_sent_on"),
            text("completed_on"),
            boolean(DELETED_FIELD),
        ],
    },
    // L-6: the receiving office's confirmation, in its own scope.
    TableDef {
        name: "corr_transfer_receipt",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("reported_on"),
            text("confirmed_by"),
            text("confirmed_on"),
            boolean(DELETED_FIELD),
        ],
    },
    // L-7 electronic location periods: ground, the county head's approval, dates, renewals.
    TableDef {
        name: "corr_location_period",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("ground"),
            text("approved_by"),
            text("approved_on"),
            text("start_on"),
            text("end_on"),
            text("renewal_of"),
            text("ended_on"),
            text("end_reason"),
            text("note"),
            boolean(DELETED_FIELD),
        ],
    },
    // L-7 location data (alarms, checks): never beyond the judicial office.
    TableDef {
        name: "corr_location_event",
        merge: MergeKind::AppendOnly,
        domain: Domain::CorrectionsOffice,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("period_id"),
            text("kind"),
            text("occurred_at"),
            text("place"),
            text("action"),
            text("recorded_by"),
            boolean(DELETED_FIELD),
        ],
    },
    // L-0 / issue 3: the district's rule table and holiday calendar (core::store::rules).
    TableDef {
        name: "local_setting",
        merge: MergeKind::Mutable,
        domain: Domain::Settings,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("json"),
            text("note"),
            text("edited_by"),
            text("edited_at"),
            boolean(DELETED_FIELD),
        ],
    },
    // D-3: the decision on a conflict item of a corrections record (row id = conflict id).
    TableDef {
        name: "corr_conflict_resolution",
        merge: MergeKind::Mutable,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("chosen_value"),
            text("resolved_by"),
            text("resolved_at"),
            text("note"),
            boolean(DELETED_FIELD),
        ],
    },
    // D-3: the decision on a conflict item of a residents' record (row id = conflict id).
    TableDef {
        name: "res_conflict_resolution",
        merge: MergeKind::Mutable,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("chosen_value"),
            text("resolved_by"),
            text("resolved_at"),
            text("note"),
            boolean(DELETED_FIELD),
        ],
    },
    // L-12: every read of a sealed minor's case, append-only, kept with the case's office.
    TableDef {
        name: "corr_access_log",
        merge: MergeKind::AppendOnly,
        domain: Domain::Corrections,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("user_id"),
            text("user_name"),
            text("accessed_at"),
            boolean(DELETED_FIELD),
        ],
    },
    // Issue 11 §6 / W-2: every read of a whistle-blower's appeal, append-only, kept with the appeal's
    // community.
    TableDef {
        name: "res_access_log",
        merge: MergeKind::AppendOnly,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("appeal_id"),
            text("user_id"),
            text("user_name"),
            text("accessed_at"),
            boolean(DELETED_FIELD),
        ],
    },
    // W-3 / L-16 people's mediation: one case per dispute. Mediation is free (人民调解法 第四条): no fee field.
    TableDef {
        name: "mediation_case",
        merge: MergeKind::Mutable,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("dispute_type"),
            text("summary"),
            text("accepted_on"),
            text("mediator"),
            text("outcome"),
            text("concluded_on"),
            text("agreement_text"),
            text("agreement_on"),
            text("court_confirmation_applied_on"),
            text("follow_up_on"),
            text("follow_up_result"),
            boolean("escalation_risk"),
            text("risk_flagged_on"),
            text("police_reported_on"),
            boolean(DELETED_FIELD),
        ],
    },
    // W-3: the parties of a mediation case (a party's details may be corrected, so mutable).
    TableDef {
        name: "mediation_party",
        merge: MergeKind::Mutable,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            integer("seq"),
            text("name"),
            text("id_number"),
            text("phone"),
            text("address"),
            boolean(DELETED_FIELD),
        ],
    },
    // W-3: mediation sessions are a record of what happened: append-only.
    TableDef {
        name: "mediation_session",
        merge: MergeKind::AppendOnly,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("case_id"),
            text("held_on"),
            text("place"),
            text("attendees"),
            text("summary"),
            text("recorded_by"),
            boolean(DELETED_FIELD),
        ],
    },
    // W-4 community-work admission: registered by the workstation, decided by the district (费随事转).
    TableDef {
        name: "admission_request",
        merge: MergeKind::Mutable,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("department"),
            text("work_item"),
            text("description"),
            text("applied_on"),
            integer("funding_offered_fen"),
            text("status"),
            text("decided_by"),
            text("decided_on"),
            text("decision_reasons"),
            integer("funding_approved_fen"),
            boolean(DELETED_FIELD),
        ],
    },
    // W-5 volunteers and building leaders; C-22 availability as a corrections volunteer.
    TableDef {
        name: "volunteer",
        merge: MergeKind::Mutable,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("name"),
            text("id_number"),
            text("phone"),
            text("skills"),
            boolean("building_leader"),
            text("building"),
            boolean("corrections_volunteer"),
            text("note"),
            boolean(DELETED_FIELD),
        ],
    },
    // W-5: service hours are append-only (the yearly recognition counts them).
    TableDef {
        name: "volunteer_service",
        merge: MergeKind::AppendOnly,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("volunteer_id"),
            text("served_on"),
            integer("minutes"),
            text("activity"),
            text("recorded_by"),
            boolean(DELETED_FIELD),
        ],
    },
    // W-6 the community's own funds: append-only spending entries; the allotments are local rules.
    TableDef {
        name: "community_fund_entry",
        merge: MergeKind::AppendOnly,
        domain: Domain::Residents,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            integer("year"),
            text("fund"),
            integer("amount_fen"),
            text("spent_on"),
            text("purpose"),
            text("recorded_by"),
            boolean(DELETED_FIELD),
        ],
    },
    TableDef {
        // The district's sites by name (D-3, histories): written by the server's admin only, scoped
        // to the district so that it flows down to every site.
        name: "site_directory",
        merge: MergeKind::Mutable,
        domain: Domain::Directory,
        scope_field: "district_id",
        fields: &[
            text("district_id"),
            text("org_unit_id"),
            text("name"),
            boolean(DELETED_FIELD),
        ],
    },
    TableDef {
        // Issue 11 §4: an account's failed logins, password changes and resets (core::accounts).
        name: "auth_event",
        merge: MergeKind::AppendOnly,
        domain: Domain::Accounts,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("user_id"),
            text("kind"),
            text("at"),
            text("actor_id"),
            text("site_id"),
            boolean(DELETED_FIELD),
        ],
    },
    TableDef {
        // Issue 9: an operation the server held in quarantine, and the district's decision on it.
        // Written by the server only; reaches the sending site's own unit and the district.
        name: "sync_quarantine",
        merge: MergeKind::Mutable,
        domain: Domain::Directory,
        scope_field: "org_unit_id",
        fields: &[
            text("org_unit_id"),
            text("site_id"),
            integer("site_seq"),
            text("tbl"),
            text("target_id"),
            text("field"),
            text("value_preview"),
            text("code"),
            text("reason"),
            text("reason_zh"),
            text("received_at"),
            text("status"),
            text("decided_by"),
            text("decided_at"),
            text("decision_note"),
            boolean(DELETED_FIELD),
        ],
    },
];

/// The store schema (migration) that introduced a replicated table: the server never sends its rows to
/// a site whose store is older (issue 10 §4: a previous release keeps syncing).
pub fn introduced_in(table: &str) -> u32 {
    match table {
        "site_directory" => 27,
        "sync_quarantine" => 28,
        "auth_event" => 31,
        "res_access_log" => 32,
        _ => 0,
    }
}

pub fn table(name: &str) -> Option<&'static TableDef> {
    // Looked up once per operation by every merge: a map, not a scan comparing ~40 names.
    static BY_NAME: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, &'static TableDef>> =
        std::sync::OnceLock::new();
    BY_NAME
        .get_or_init(|| TABLES.iter().map(|t| (t.name, t)).collect())
        .get(name)
        .copied()
}

impl TableDef {
    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

impl FieldType {
    /// Whether a JSON value fits this field (null always does: a field may be cleared).
    pub fn accepts(self, value: &serde_json::Value) -> bool {
        match (self, value) {
            (_, serde_json::Value::Null) => true,
            (FieldType::Text, serde_json::Value::String(_)) => true,
            (FieldType::Integer, serde_json::Value::Number(n)) => n.is_i64(),
            (FieldType::Bool, serde_json::Value::Bool(_)) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod owner_field_tests {
    use super::*;

    #[test]
    fn every_append_only_table_is_owned_through_the_movable_owner_field() {
        for def in TABLES.iter().filter(|t| t.merge == MergeKind::AppendOnly) {
            assert_eq!(
                def.scope_field, APPEND_ONLY_OWNER_FIELD,
                "{}: the L-6 move follows the latest version only of {APPEND_ONLY_OWNER_FIELD}",
                def.name
            );
            assert!(def.field(APPEND_ONLY_OWNER_FIELD).is_some(), "{}", def.name);
        }
    }
}
