//! Local figures that are amounts rather than clocks (DOMAIN.md W-5): loaded from
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
}
