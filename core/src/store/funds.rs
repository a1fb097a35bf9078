//! W-6 the community's own funds (社区经费): a yearly ledger of spending per fund and community, against
//! the yearly figures of `schema/rules/community.json` (development fund, working funds split into work
//! and care/assistance, low-income work funds). Money is integer fen.
//!
//! Entries are append-only (a ledger line is a record of what was paid); a wrong line is removed with the
//! reversible `_deleted` flag and entered again. Overspending is refused at entry (and at restoring a
//! removed line): a fund's spending in a year never exceeds its allotment on this PC. Two offline PCs of
//! the same community could still together exceed it after sync; the summary then shows a negative
//! remainder and flags the fund as overspent instead of hiding or dropping either entry.

use super::acked::row_has_unsent_entry;
use super::input::{day_text, needle, past_date, required};
use super::{Store, WriteChange};
use crate::error::{CoreError, Result};
use crate::local_rules::{FundRule, LocalRules};
use crate::model::{
    CommunityFund, CommunityFundSummary, FundEntryInput, FundEntryRecord, FundLine, FundQuery,
    OrgKind, Page, SessionUser,
};
use crate::tables::{self, TableDef, DELETED_FIELD};
use chrono::Datelike;
use rusqlite::{params, OptionalExtension, Row};

const MAX_PAGE_SIZE: u32 = 200;

fn def() -> Result<&'static TableDef> {
    tables::table("community_fund_entry").ok_or(CoreError::NotFound("table community_fund_entry"))
}

fn rule_of(fund: CommunityFund) -> FundRule {
    match fund {
        CommunityFund::Development => FundRule::Development,
        CommunityFund::WorkingWork => FundRule::WorkingWork,
        CommunityFund::WorkingCare => FundRule::WorkingCare,
        CommunityFund::LowIncomeWork => FundRule::LowIncomeWork,
    }
}

fn fund_zh(fund: CommunityFund) -> &'static str {
    match fund {
        CommunityFund::Development => "社区发展经费",
        CommunityFund::WorkingWork => "工作经费",
        CommunityFund::WorkingCare => "关爱帮扶经费",
        CommunityFund::LowIncomeWork => "低保工作经费",
    }
}

/// 1234567 fen → "12345.67".
pub fn yuan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn rules() -> Result<&'static LocalRules> {
    LocalRules::embedded().map_err(|e| CoreError::Corrupt(e.to_string()))
}

fn allotment(fund: CommunityFund) -> Result<(i64, String, String)> {
    let rule = rules()?
        .rule(rule_of(fund).rule_id())
        .map_err(|e| CoreError::Corrupt(e.to_string()))?;
    Ok((rule.amount_fen, rule.id.clone(), rule.source.clone()))
}

const COLUMNS: &str = concat!(
    "e.id, e.org_unit_id, o.name, e.year, e.fund, e.amount_fen, e.spent_on, e.purpose, \
     e.recorded_by, COALESCE(e._deleted, 0), \
     ",
    row_has_unsent_entry!("e.id")
);

fn from_row(r: &Row<'_>) -> rusqlite::Result<Option<FundEntryRecord>> {
    let text = |i: usize| -> rusqlite::Result<String> {
        Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
    };
    // A line still arriving through sync may lack its fund: skip it until whole.
    let Some(fund) = CommunityFund::from_code(&text(4)?) else {
        return Ok(None);
    };
    Ok(Some(FundEntryRecord {
        id: r.get(0)?,
        org_unit_id: text(1)?,
        org_unit_name: text(2)?,
        year: r.get::<_, Option<i32>>(3)?.unwrap_or(0),
        fund,
        amount_fen: r.get::<_, Option<i64>>(5)?.unwrap_or(0),
        spent_on: text(6)?,
        purpose: text(7)?,
        recorded_by: text(8)?,
        deleted: r.get::<_, i64>(9)? != 0,
        pending_sync: r.get(10)?,
    }))
}

impl Store {
    fn fund_spent_fen(
        &self,
        org_unit_id: &str,
        year: i32,
        fund: CommunityFund,
    ) -> Result<(i64, u32)> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(amount_fen), 0), COUNT(*) FROM community_fund_entry \
             WHERE org_unit_id = ?1 AND year = ?2 AND fund = ?3 AND COALESCE(_deleted, 0) = 0",
            params![org_unit_id, year, fund.code()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// W-6: refuses a line that would take the fund's spending of the year past its allotment.
    fn refuse_overspending(
        &self,
        org_unit_id: &str,
        year: i32,
        fund: CommunityFund,
        amount_fen: i64,
    ) -> Result<()> {
        let (allotted, _, _) = allotment(fund)?;
        let (spent, _) = self.fund_spent_fen(org_unit_id, year, fund)?;
        let remaining = allotted - spent;
        if amount_fen > remaining {
            return Err(CoreError::invalid(
                "amount_fen",
                format!("overspending: {remaining} fen left of {fund:?} in {year}"),
                format!(
                    "超支：{year}年{}剩余{}元，本笔{}元，不能登记（W-6）",
                    fund_zh(fund),
                    yuan_text(remaining),
                    yuan_text(amount_fen)
                ),
            ));
        }
        Ok(())
    }

    fn fund_entry_by_id(&self, id: &str) -> Result<Option<FundEntryRecord>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM community_fund_entry e LEFT JOIN org_unit o ON o.id = e.org_unit_id WHERE e.id = ?1"
            ))?
            .query_row([id], from_row)
            .optional()?
            .flatten())
    }

    fn fund_entry_in_scope(&self, user: &SessionUser, id: &str) -> Result<FundEntryRecord> {
        self.require_community_work(user)?;
        let entry = self
            .fund_entry_by_id(id)?
            .ok_or(CoreError::NotFound("fund entry"))?;
        if !self.is_within(&entry.org_unit_id, &user.org_unit_id)? {
            return Err(CoreError::NotFound("fund entry"));
        }
        Ok(entry)
    }

    /// W-6: records one payment from a fund of the clerk's community.
    pub fn record_fund_entry(
        &mut self,
        user: &SessionUser,
        input: FundEntryInput,
    ) -> Result<FundEntryRecord> {
        self.require_community_work(user)?;
        let org_unit_id = self.own_community(user, "社区经费支出")?;
        if input.amount_fen <= 0 {
            return Err(CoreError::invalid(
                "amount_fen",
                "the amount must be more than 0",
                "支出金额须大于0元",
            ));
        }
        let today = self.shanghai_today()?;
        let spent_on = past_date(
            Some(&input.spent_on),
            today,
            None,
            "spent_on",
            "支出日期格式应为YYYY-MM-DD，且不晚于今天",
        )?;
        let purpose = required(&input.purpose, 200, "purpose", "请填写用途（最多200字）")?;
        let year = spent_on.year();
        self.refuse_overspending(&org_unit_id, year, input.fund, input.amount_fen)?;
        let id = uuid::Uuid::now_v7().to_string();
        self.write_row(
            &user.user_id,
            def()?,
            &id,
            &org_unit_id,
            &[
                WriteChange::new("org_unit_id", org_unit_id.clone()),
                WriteChange::new("year", i64::from(year)),
                WriteChange::new("fund", input.fund.code()),
                WriteChange::new("amount_fen", input.amount_fen),
                WriteChange::new("spent_on", day_text(spent_on)),
                WriteChange::new("purpose", purpose),
                WriteChange::new("recorded_by", user.display_name.clone()),
            ],
        )?;
        self.fund_entry_by_id(&id)?
            .ok_or(CoreError::NotFound("fund entry"))
    }

    /// Removes a wrong line (reversible); restoring it is refused when it would overspend the fund.
    pub fn set_fund_entry_deleted(
        &mut self,
        user: &SessionUser,
        id: &str,
        deleted: bool,
    ) -> Result<FundEntryRecord> {
        let entry = self.fund_entry_in_scope(user, id)?;
        if self.org_unit_kind(&user.org_unit_id)? != Some(OrgKind::Community) {
            return Err(CoreError::invalid(
                "org_unit_id",
                "the ledger is kept by the community workstation",
                "社区经费台账由社区工作站登记",
            ));
        }
        if !deleted && entry.deleted {
            self.refuse_overspending(&entry.org_unit_id, entry.year, entry.fund, entry.amount_fen)?;
        }
        self.write_row(
            &user.user_id,
            def()?,
            id,
            &entry.org_unit_id,
            &[WriteChange::new(DELETED_FIELD, deleted)],
        )?;
        self.fund_entry_by_id(id)?
            .ok_or(CoreError::NotFound("fund entry"))
    }

    /// The ledger lines of the user's scope for a year, newest first; text matches the purpose, the
    /// recorder or the community.
    pub fn list_fund_entries(
        &self,
        user: &SessionUser,
        query: &FundQuery,
    ) -> Result<Page<FundEntryRecord>> {
        self.require_community_work(user)?;
        let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
        let page = query.page.max(1);
        let year = match query.year {
            Some(y) => y,
            None => self.shanghai_today()?.year(),
        };
        let n = needle(query.text.as_deref());
        let fund = query.fund.map(|f| f.code()).unwrap_or("");
        let scope = self.scope_json(user)?;
        let filter = "e.org_unit_id IN (SELECT value FROM json_each(?1)) AND e.year = ?2 \
             AND (?3 = '' OR e.fund = ?3) \
             AND (?4 = '' OR e.purpose LIKE ?5 ESCAPE '\\' OR e.recorded_by LIKE ?5 ESCAPE '\\' OR o.name LIKE ?5 ESCAPE '\\') \
             AND (?6 OR COALESCE(e._deleted, 0) = 0)";
        let total: u32 = self.conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM community_fund_entry e LEFT JOIN org_unit o ON o.id = e.org_unit_id WHERE {filter}"
            ),
            params![scope, year, fund, n.text, n.pattern, query.include_deleted],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM community_fund_entry e LEFT JOIN org_unit o ON o.id = e.org_unit_id \
             WHERE {filter} ORDER BY e.spent_on DESC, e.id DESC LIMIT ?7 OFFSET ?8"
        ))?;
        let items = stmt
            .query_map(
                params![
                    scope,
                    year,
                    fund,
                    n.text,
                    n.pattern,
                    query.include_deleted,
                    page_size,
                    (page - 1) * page_size
                ],
                from_row,
            )?
            .filter_map(|r| r.transpose())
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }

    /// W-6: allotted, spent and remaining per fund for every community of the user's scope (the clerk:
    /// their own; the district: all), for a calendar year (None = this year, Asia/Shanghai).
    pub fn fund_summaries(
        &self,
        user: &SessionUser,
        year: Option<i32>,
    ) -> Result<Vec<CommunityFundSummary>> {
        self.require_community_work(user)?;
        let year = match year {
            Some(y) => y,
            None => self.shanghai_today()?.year(),
        };
        let scope = self.scope_json(user)?;
        let communities = self
            .conn
            .prepare_cached(
                "SELECT id, COALESCE(name, '') FROM org_unit WHERE id IN (SELECT value FROM json_each(?1)) \
                 AND kind = 'community' AND COALESCE(_deleted, 0) = 0 ORDER BY name, id",
            )?
            .query_map([&scope], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(communities.len());
        for (org_unit_id, org_unit_name) in communities {
            let mut funds = Vec::with_capacity(CommunityFund::ALL.len());
            for fund in CommunityFund::ALL {
                let (allotted, rule_id, source) = allotment(fund)?;
                let (spent, entries) = self.fund_spent_fen(&org_unit_id, year, fund)?;
                funds.push(FundLine {
                    fund,
                    allotted_fen: allotted,
                    spent_fen: spent,
                    remaining_fen: allotted - spent,
                    overspent: spent > allotted,
                    entries,
                    rule_id,
                    source,
                });
            }
            out.push(CommunityFundSummary {
                org_unit_id,
                org_unit_name,
                year,
                allotted_fen: funds.iter().map(|f| f.allotted_fen).sum(),
                spent_fen: funds.iter().map(|f| f.spent_fen).sum(),
                overspent: funds.iter().any(|f| f.overspent),
                funds,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::yuan_text;

    #[test]
    fn w6_amounts_print_as_yuan_without_rounding() {
        assert_eq!(yuan_text(1_000_000), "10000.00");
        assert_eq!(yuan_text(150), "1.50");
        assert_eq!(yuan_text(-1), "-0.01");
    }
}
