//! Local figures that are amounts rather than clocks (DOMAIN.md W-5, W-6): loaded from
//! `schema/rules/community.json` so that no such figure is a literal in code, the same way every
//! deadline lives in `schema/rules/deadlines.json`. Money is integer fen: 1.5 yuan is 150 fen, exact.

use serde::Deserialize;
use std::sync::OnceLock;
use thiserror::Error;

/// The local rule file shipped with this build.
pub const COMMUNITY_RULES_JSON: &str = include_str!("../../schema/rules/community.json");

/// W-5: the reward fund for building leaders and volunteers, per household per year.
pub const REWARD_FUND_RULE: &str = "W-5.reward_fund_per_household";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LocalRuleError {
    #[error("schema/rules/community.json is not valid: {0}")]
    Json(String),
    #[error("local rule {0} is missing from schema/rules/community.json")]
    Missing(String),
    #[error("local rule {0}: the amount must be a positive number of fen")]
    BadAmount(String),
    #[error("local rule {0}: its parts do not add up to it")]
    PartsDoNotAddUp(String),
}

/// One validated amount rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountRule {
    pub id: String,
    pub rule_ref: String,
    pub amount_fen: i64,
    #[serde(default)]
    pub per_household: bool,
    /// W-6: this amount is a part of another rule's amount (working funds: work + care); the parts of a
    /// rule must add up to it exactly.
    #[serde(default)]
    pub part_of: Option<String>,
    pub per: String,
    pub source: String,
    pub era: String,
    pub title_zh: String,
    pub title_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalRules {
    #[serde(default)]
    #[allow(dead_code)]
    table: Option<String>,
    pub version: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    pub rules: Vec<AmountRule>,
}

impl LocalRules {
    /// Parses and validates a local rule file: every amount is a positive number of fen.
    pub fn from_json(text: &str) -> Result<LocalRules, LocalRuleError> {
        let rules: LocalRules =
            serde_json::from_str(text).map_err(|e| LocalRuleError::Json(e.to_string()))?;
        if let Some(bad) = rules.rules.iter().find(|r| r.amount_fen <= 0) {
            return Err(LocalRuleError::BadAmount(bad.id.clone()));
        }
        for whole in &rules.rules {
            let parts: Vec<&AmountRule> = rules
                .rules
                .iter()
                .filter(|r| r.part_of.as_deref() == Some(whole.id.as_str()))
                .collect();
            if !parts.is_empty()
                && parts.iter().map(|p| p.amount_fen).sum::<i64>() != whole.amount_fen
            {
                return Err(LocalRuleError::PartsDoNotAddUp(whole.id.clone()));
            }
        }
        if let Some(orphan) = rules.rules.iter().find(|r| {
            r.part_of
                .as_deref()
                .is_some_and(|w| !rules.rules.iter().any(|x| x.id == w))
        }) {
            return Err(LocalRuleError::Missing(
                orphan.part_of.clone().unwrap_or_default(),
            ));
        }
        Ok(rules)
    }

    /// The file shipped with this build, parsed once per process.
    pub fn embedded() -> Result<&'static LocalRules, LocalRuleError> {
        static RULES: OnceLock<Result<LocalRules, LocalRuleError>> = OnceLock::new();
        RULES
            .get_or_init(|| LocalRules::from_json(COMMUNITY_RULES_JSON))
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn rule(&self, id: &str) -> Result<&AmountRule, LocalRuleError> {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| LocalRuleError::Missing(id.to_string()))
    }

    /// W-5: the yearly reward fund for `households` households, in fen.
    pub fn reward_fund_fen(&self, households: u32) -> Result<i64, LocalRuleError> {
        let rule = self.rule(REWARD_FUND_RULE)?;
        Ok(rule.amount_fen.saturating_mul(i64::from(households)))
    }
}

/// W-6: the community's own funds, each with its yearly allotment rule. Working funds (20,000 yuan) are
/// kept as their two parts, so the ledger never mixes work and care spending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FundRule {
    Development,
    WorkingWork,
    WorkingCare,
    LowIncomeWork,
}

impl FundRule {
    pub const ALL: [FundRule; 4] = [
        FundRule::Development,
        FundRule::WorkingWork,
        FundRule::WorkingCare,
        FundRule::LowIncomeWork,
    ];

    pub fn rule_id(self) -> &'static str {
        match self {
            FundRule::Development => "W-6.development_fund",
            FundRule::WorkingWork => "W-6.working_funds.work",
            FundRule::WorkingCare => "W-6.working_funds.care",
            FundRule::LowIncomeWork => "W-6.low_income_work_funds",
        }
    }
}

impl LocalRules {
    /// W-6: a community's yearly allotment of one fund, in fen.
    pub fn fund_allotment_fen(&self, fund: FundRule) -> Result<i64, LocalRuleError> {
        Ok(self.rule(fund.rule_id())?.amount_fen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w5_reward_fund_rate_comes_from_the_local_rule_file() {
        let rules = LocalRules::embedded().expect("shipped file is valid");
        let rule = rules.rule(REWARD_FUND_RULE).expect("W-5 rule");
        // DOMAIN.md W-5: 1.5 yuan per household per year = 150 fen.
        assert_eq!((rule.amount_fen, rule.per.as_str()), (150, "year"));
        assert!(rule.per_household);
        assert_eq!(rules.reward_fund_fen(0).unwrap(), 0);
        // 3 households → 4.50 yuan.
        assert_eq!(rules.reward_fund_fen(3).unwrap(), 450);
    }

    #[test]
    fn w5_a_district_edit_changes_the_rate_and_bad_amounts_are_refused() {
        let edited = COMMUNITY_RULES_JSON.replacen("\"amount_fen\": 150", "\"amount_fen\": 200", 1);
        let rules = LocalRules::from_json(&edited).expect("edited file");
        assert_eq!(rules.reward_fund_fen(10).unwrap(), 2000);
        let bad = COMMUNITY_RULES_JSON.replacen("\"amount_fen\": 150", "\"amount_fen\": 0", 1);
        assert_eq!(
            LocalRules::from_json(&bad),
            Err(LocalRuleError::BadAmount(REWARD_FUND_RULE.into()))
        );
    }

    #[test]
    fn w6_fund_figures_come_from_the_local_rule_file_and_working_funds_split_exactly() {
        let rules = LocalRules::embedded().expect("shipped file is valid");
        // DOMAIN.md W-6: 10,000 development, 12,000 + 8,000 working funds, 2,000 low-income work funds.
        let yuan = |f| rules.fund_allotment_fen(f).unwrap() / 100;
        assert_eq!(yuan(FundRule::Development), 10_000);
        assert_eq!(yuan(FundRule::WorkingWork), 12_000);
        assert_eq!(yuan(FundRule::WorkingCare), 8_000);
        assert_eq!(yuan(FundRule::LowIncomeWork), 2_000);
        assert_eq!(
            rules.rule("W-6.working_funds").unwrap().amount_fen,
            2_000_000
        );
        for fund in FundRule::ALL {
            let rule = rules.rule(fund.rule_id()).unwrap();
            assert_eq!((rule.rule_ref.as_str(), rule.per.as_str()), ("W-6", "year"));
            assert!(!rule.source.is_empty());
        }
    }

    #[test]
    fn w6_parts_that_do_not_add_up_are_refused() {
        let bad =
            COMMUNITY_RULES_JSON.replacen("\"amount_fen\": 800000", "\"amount_fen\": 700000", 1);
        assert_eq!(
            LocalRules::from_json(&bad),
            Err(LocalRuleError::PartsDoNotAddUp("W-6.working_funds".into()))
        );
    }
}
