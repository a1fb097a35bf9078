//! The one rule table of every clock in the product (DOMAIN.md: "every deadline lives in one rule
//! table … never as a literal in code"), loaded from `schema/rules/deadlines.json` or from the
//! district's edited replacement. Loading validates everything a typo could break (unique ids, known
//! units, triggers, roles, eras, positive amounts, the fields each kind of rule needs), so a bad file
//! is refused whole with a message naming the rule, never half-applied.

use super::calendar::Calendar;
use super::error::{DeadlineError, RULES_FILE};
use super::period::{compute_due, Direction, Due, Extension, Moment, Period, Unit};
use crate::model::Role;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The rule table shipped with this build; `RuleTable::from_json` takes the district's replacement.
pub const DEADLINE_RULES_JSON: &str = include_str!("../../../schema/rules/deadlines.json");

code_enum! {
    /// What the period of a rule means.
    RuleKind {
        /// Something must be done by the due date.
        Deadline => "deadline",
        /// A maximum length (a trip, electronic location, custody) or amount per window.
        Limit => "limit",
        /// A length or count that changes the consequence (L-8 discipline ladder).
        Threshold => "threshold",
        /// A minimum amount per month, quarter or year (C-10, C-11, C-14).
        Quota => "quota",
    }
}

code_enum! {
    /// Where a rule comes from (DOMAIN.md L tags): the law wins; older figures stay configurable.
    Era {
        Law => "law",
        /// The superseded 2012 national measures (社区矫正实施办法).
        Measures2012 => "2012",
        /// The superseded 2002 mediation rules (人民调解工作若干规定).
        Rules2002 => "2002",
        Local => "local",
        Seed => "seed",
    }
}

code_enum! {
    /// The calendar window of a quota or a yearly limit (Shanghai calendar).
    WindowKind {
        Month => "month",
        Quarter => "quarter",
        HalfYear => "half_year",
        Year => "year",
    }
}

code_enum! {
    /// What a quantity counts.
    Measure {
        Days => "days",
        WorkingDays => "working_days",
        Hours => "hours",
        Times => "times",
    }
}

code_enum! {
    /// The event that starts a clock (or, for `before` rules, the planned event it counts back from).
    /// Stable codes: the case screens emit them, the table refers to them.
    Trigger {
        JudgmentEffective => "judgment_effective",
        InvestigationRequested => "investigation_requested",
        LastReport => "last_report",
        RecommendationReceived => "recommendation_received",
        SeriousIncident => "serious_incident",
        TemporaryExecutionDecisionReceived => "temporary_execution_decision_received",
        DocumentsReceived => "documents_received",
        LeaveStart => "leave_start",
        LeaveReturn => "leave_return",
        MoveDate => "move_date",
        TransferDecided => "transfer_decided",
        TransferDecisionReceived => "transfer_decision_received",
        ElectronicLocationStarted => "electronic_location_started",
        ElectronicLocationRenewed => "electronic_location_renewed",
        ContactLost => "contact_lost",
        ArrestRequested => "arrest_requested",
        Arrested => "arrested",
        RevocationProposed => "revocation_proposed",
        CommittalProposed => "committal_proposed",
        CorrectionPeriodEnd => "correction_period_end",
        PetitionReceived => "petition_received",
        PetitionReferredReceived => "petition_referred_received",
        PetitionAccepted => "petition_accepted",
        PetitionHandlingDue => "petition_handling_due",
        ReplyReceived => "reply_received",
        ReviewRequested => "review_requested",
        ReviewReplyReceived => "review_reply_received",
        ReReviewRequested => "re_review_requested",
        HotlineUrgentReceived => "hotline_urgent_received",
        HotlineEnquiryReceived => "hotline_enquiry_received",
        HotlineComplaintReceived => "hotline_complaint_received",
        HotlineDue => "hotline_due",
        HotlineClosed => "hotline_closed",
        MediationAccepted => "mediation_accepted",
        MediationAgreementEffective => "mediation_agreement_effective",
        MediationRiskFlagged => "mediation_risk_flagged",
    }
}

/// Whom to alert, and how long after the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub to: Role,
    pub after: Period,
}

/// An amount of something counted (2 working days of labour, 60 days of leave, 2 reprimands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quantity {
    pub amount: u32,
    pub measure: Measure,
}

/// One validated rule of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable id, `<rule_ref>.<name>`, e.g. "L-1.report".
    pub id: String,
    /// The DOMAIN.md rule it implements, e.g. "L-1".
    pub rule_ref: String,
    pub kind: RuleKind,
    pub trigger: Option<Trigger>,
    pub period: Option<Period>,
    pub direction: Direction,
    /// 羁押期间: the last day never moves past a holiday (L-0).
    pub custody: bool,
    /// False for clocks that run every day (12345 urgent, release on expiry, maxima of restrictions).
    pub holiday_extension: bool,
    /// The system role that watches this clock.
    pub role: Role,
    /// Who must act (may be outside the system: "court", "subject", "petitioner").
    pub actor: String,
    pub escalation: Option<Escalation>,
    pub quantity: Option<Quantity>,
    pub per: Option<WindowKind>,
    /// The text it rests on, e.g. "社区矫正法 第二十条".
    pub source: String,
    pub era: Era,
    pub active: bool,
    pub title_zh: String,
    pub title_en: String,
    pub note: Option<String>,
}

impl Rule {
    /// L-0's holiday extension applies unless the rule is custody or opts out.
    pub fn extension(&self) -> Extension {
        if self.custody || !self.holiday_extension {
            Extension::Never
        } else {
            Extension::ToNextWorkingDay
        }
    }

    /// The due point of this rule for a trigger moment; quotas and pure amounts have none.
    pub fn due(&self, calendar: &Calendar, trigger: Moment) -> Result<Due, DeadlineError> {
        match (self.kind, self.period) {
            (RuleKind::Quota, _) | (_, None) => Err(DeadlineError::NoDueDate(self.id.clone())),
            (_, Some(period)) => {
                compute_due(calendar, trigger, period, self.direction, self.extension())
            }
        }
    }
}

/// Table-wide settings (figures that are not a single rule's period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A task is "due soon" when its due date is within this many working days of today.
    pub due_soon_working_days: u32,
}

/// The validated rule table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTable {
    version: String,
    settings: Settings,
    rules: Vec<Rule>,
}

impl RuleTable {
    /// The table shipped with this build.
    pub fn embedded() -> Result<RuleTable, DeadlineError> {
        RuleTable::from_json(DEADLINE_RULES_JSON)
    }

    /// Parses and validates a rule table; the first problem found refuses the whole file.
    pub fn from_json(text: &str) -> Result<RuleTable, DeadlineError> {
        let raw: RawTable = serde_json::from_str(text).map_err(|e| DeadlineError::Json {
            file: RULES_FILE,
            detail: e.to_string(),
        })?;
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(raw.rules.len());
        for raw_rule in raw.rules {
            if !seen.insert(raw_rule.id.clone()) {
                return Err(DeadlineError::DuplicateRule(raw_rule.id));
            }
            rules.push(raw_rule.validate()?);
        }
        Ok(RuleTable {
            version: raw.version,
            settings: raw.settings,
            rules,
        })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// All rules, active or not, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A rule by id, active or not.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// A rule by id, or a typed error naming it.
    pub fn rule(&self, id: &str) -> Result<&Rule, DeadlineError> {
        self.get(id)
            .ok_or_else(|| DeadlineError::UnknownRule(id.to_string()))
    }

    /// The active rules started by an event (what to schedule when it happens).
    pub fn by_trigger(&self, trigger: Trigger) -> impl Iterator<Item = &Rule> {
        self.rules
            .iter()
            .filter(move |r| r.active && r.trigger == Some(trigger))
    }

    /// All rules implementing one DOMAIN.md id, active or not.
    pub fn by_ref<'a>(&'a self, rule_ref: &'a str) -> impl Iterator<Item = &'a Rule> {
        self.rules.iter().filter(move |r| r.rule_ref == rule_ref)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    #[serde(default)]
    #[allow(dead_code)]
    table: Option<String>,
    version: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    settings: Settings,
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    amount: i64,
    unit: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEscalation {
    to: String,
    after: RawPeriod,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuantity {
    amount: i64,
    measure: String,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    rule_ref: String,
    kind: String,
    #[serde(default)]
    trigger: Option<String>,
    #[serde(default)]
    period: Option<RawPeriod>,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    custody: bool,
    #[serde(default = "default_true")]
    holiday_extension: bool,
    role: String,
    actor: String,
    #[serde(default)]
    escalation: Option<RawEscalation>,
    #[serde(default)]
    quantity: Option<RawQuantity>,
    #[serde(default)]
    per: Option<String>,
    source: String,
    era: String,
    active: bool,
    title_zh: String,
    title_en: String,
    #[serde(default)]
    note: Option<String>,
}

impl RawRule {
    /// Turns the raw strings into typed fields, then checks the combination makes sense.
    fn validate(self) -> Result<Rule, DeadlineError> {
        check_ids(&self.id, &self.rule_ref)?;
        let id = self.id.as_str();
        let rule = Rule {
            kind: known(id, "kind", &self.kind, RuleKind::from_code)?,
            trigger: optional(id, "trigger", self.trigger.as_deref(), Trigger::from_code)?,
            period: self
                .period
                .as_ref()
                .map(|p| period(id, "period", p))
                .transpose()?,
            direction: optional(
                id,
                "direction",
                self.direction.as_deref(),
                Direction::from_code,
            )?
            .unwrap_or(Direction::After),
            custody: self.custody,
            holiday_extension: self.holiday_extension,
            role: known(id, "role", &self.role, Role::from_code)?,
            actor: required_text(id, "actor", self.actor)?,
            escalation: self
                .escalation
                .as_ref()
                .map(|e| escalation(id, e))
                .transpose()?,
            quantity: self
                .quantity
                .as_ref()
                .map(|q| quantity(id, q))
                .transpose()?,
            per: optional(id, "per", self.per.as_deref(), WindowKind::from_code)?,
            source: required_text(id, "source", self.source)?,
            era: known(id, "era", &self.era, Era::from_code)?,
            active: self.active,
            title_zh: required_text(id, "title_zh", self.title_zh)?,
            title_en: required_text(id, "title_en", self.title_en)?,
            note: self.note,
            id: self.id,
            rule_ref: self.rule_ref,
        };
        check_shape(&rule)?;
        Ok(rule)
    }
}

/// `rule_ref` is a DOMAIN.md id ("L-14") and `id` is "<rule_ref>.<snake_case name>", so a clerk can go
/// from any task to the paragraph that justifies it.
fn check_ids(id: &str, rule_ref: &str) -> Result<(), DeadlineError> {
    let ref_ok = rule_ref.split_once('-').is_some_and(|(letter, number)| {
        matches!(letter, "C" | "L" | "W" | "D")
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit())
    });
    if !ref_ok {
        return Err(DeadlineError::inconsistent(
            id,
            format!("rule_ref {rule_ref:?} is not a DOMAIN.md id like \"L-1\""),
            format!("rule_ref“{rule_ref}”不是 DOMAIN.md 的规则编号（如 L-1）"),
        ));
    }
    let name_ok = id
        .strip_prefix(rule_ref)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
    if name_ok {
        Ok(())
    } else {
        Err(DeadlineError::inconsistent(
            id,
            format!("id must be \"{rule_ref}.<name>\" with a lowercase snake_case name"),
            format!("编号应为“{rule_ref}.名称”，名称用小写英文字母、数字和下划线"),
        ))
    }
}

/// Each kind needs its own fields: a deadline a trigger and a period, a quota an amount and a window.
fn check_shape(rule: &Rule) -> Result<(), DeadlineError> {
    let problem = match rule.kind {
        RuleKind::Deadline if rule.trigger.is_none() || rule.period.is_none() => Some((
            "a deadline needs a trigger and a period",
            "截止期限必须有触发事件和期间",
        )),
        RuleKind::Quota
            if rule.quantity.is_none() || rule.per.is_none() || rule.period.is_some() =>
        {
            Some((
                "a quota needs a quantity and a per window, and no period",
                "最低要求必须有数量和统计周期（per），不设期间",
            ))
        }
        RuleKind::Limit | RuleKind::Threshold
            if rule.period.is_none() && rule.quantity.is_none() =>
        {
            Some((
                "a limit or threshold needs a period or a quantity",
                "上限或阈值必须有期间或数量",
            ))
        }
        _ if rule.per.is_some() && rule.quantity.is_none() => Some((
            "a per window needs a quantity",
            "设了统计周期（per）就必须有数量",
        )),
        _ if rule.direction != Direction::After && rule.kind != RuleKind::Deadline => Some((
            "only a deadline may count before its trigger",
            "只有截止期限可以在触发事件之前倒算",
        )),
        _ => None,
    };
    match problem {
        Some((en, zh)) => Err(DeadlineError::inconsistent(&rule.id, en, zh)),
        None => Ok(()),
    }
}

/// A required enum field: unknown text is a typed error naming the rule and the field.
fn known<T>(
    rule: &str,
    field: &'static str,
    value: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, DeadlineError> {
    parse(value).ok_or_else(|| DeadlineError::Unknown {
        rule: rule.to_string(),
        field,
        value: value.to_string(),
    })
}

fn optional<T>(
    rule: &str,
    field: &'static str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, DeadlineError> {
    value.map(|v| known(rule, field, v, parse)).transpose()
}

fn required_text(rule: &str, field: &str, value: String) -> Result<String, DeadlineError> {
    if value.trim().is_empty() {
        Err(DeadlineError::inconsistent(
            rule,
            format!("{field} must not be empty"),
            format!("{field} 不能为空"),
        ))
    } else {
        Ok(value)
    }
}

/// Amounts are positive, except `same_day`, whose amount is 0 by definition.
fn period(rule: &str, field: &'static str, raw: &RawPeriod) -> Result<Period, DeadlineError> {
    let unit = known(rule, "unit", &raw.unit, Unit::from_code)?;
    let valid = if unit == Unit::SameDay {
        raw.amount == 0
    } else {
        raw.amount > 0
    };
    match u32::try_from(raw.amount) {
        Ok(amount) if valid => Ok(Period::new(amount, unit)),
        _ => Err(DeadlineError::BadAmount {
            rule: rule.to_string(),
            field,
            value: raw.amount,
        }),
    }
}

fn escalation(rule: &str, raw: &RawEscalation) -> Result<Escalation, DeadlineError> {
    Ok(Escalation {
        to: known(rule, "escalation.to", &raw.to, Role::from_code)?,
        after: period(rule, "escalation.after", &raw.after)?,
    })
}

fn quantity(rule: &str, raw: &RawQuantity) -> Result<Quantity, DeadlineError> {
    let measure = known(rule, "quantity.measure", &raw.measure, Measure::from_code)?;
    match u32::try_from(raw.amount) {
        Ok(amount) if amount > 0 => Ok(Quantity { amount, measure }),
        _ => Err(DeadlineError::BadAmount {
            rule: rule.to_string(),
            field: "quantity",
            value: raw.amount,
        }),
    }
}
