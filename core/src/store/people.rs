//! One person index (一人一档): a resident, a mediation party, a petitioner, a volunteer and a corrections
//! subject are the same person when the normalised ID number matches. Each role sees only its own
//! domains (a community clerk never sees corrections data, a judicial officer never sees the
//! workstation's records): the index joins what the user could already read one tab at a time and never
//! widens a scope. L-12: sealed minors' cases appear only to the judicial office and the district.

use super::input::{needle, Needle};
use super::Store;
use crate::error::{CoreError, Result};
use crate::idcard;
use crate::model::{
    CaseQuery, Page, PersonDomain, PersonHit, PersonProfile, PersonRecordRef, Role, SessionUser,
};
use rusqlite::{params, Row};

const MAX_PAGE_SIZE: u32 = 100;

/// The domains a role may see in the person index, in display order. Derived from the same role checks
/// the domain screens use, so the index cannot show more than the tabs do.
pub fn person_domains(role: Role) -> Vec<PersonDomain> {
    let mut domains = Vec::new();
    if role.may_use_residents() {
        domains.extend([
            PersonDomain::Resident,
            PersonDomain::Appeal,
            PersonDomain::Mediation,
            PersonDomain::Volunteer,
        ]);
    }
    if role.may_read_corrections() {
        domains.push(PersonDomain::Corrections);
    }
    domains
}

/// L-12: who may see that a sealed minor's case exists at all: the judicial office and the district.
/// (The procuratorate reads corrections with identities masked; in a search by identity, a masked row
/// would still reveal the sealed record, so it gets none.)
pub fn sees_sealed_minors(role: Role) -> bool {
    crate::permissions::may(
        role,
        crate::permissions::Area::SealedMinors,
        crate::permissions::Access::Read,
    )
}

/// One SELECT per visible domain producing (id_number, name, initials) of matching records in scope.
/// A domain the role may not read is not part of the SQL at all.
fn hit_branches(role: Role, include_deleted: bool, has_text: bool) -> Vec<String> {
    let live = |alias: &str| {
        if include_deleted {
            String::new()
        } else {
            format!(" AND COALESCE({alias}._deleted, 0) = 0")
        }
    };
    let text = |alias: &str, id: &str| {
        format!(
            "(:text = '' OR {alias}.name_search LIKE :name_pattern ESCAPE '\\' OR {alias}.name_initials LIKE :initials ESCAPE '\\' \
             OR {alias}.{id} LIKE :id_pattern ESCAPE '\\')"
        )
    };
    let scope =
        |alias: &str| format!("{alias}.org_unit_id IN (SELECT value FROM json_each(:scope))");
    let mut out = Vec::new();
    for domain in person_domains(role) {
        let sql = match domain {
            // W-1: the register's own search (indexed for 100,000 residents) finds the registrations; a
            // search matching a merged registration (by its name or its own id) finds the person.
            PersonDomain::Resident => format!(
                "SELECT r.id_number, r.name, r.name_initials FROM resident r WHERE {} AND r.id_number <> ''{}{}",
                scope("r"),
                // The candidates drive the lookup (by primary key), never a scan of the table.
                if has_text {
                    " AND r.id IN (SELECT value FROM json_each(:candidates))"
                } else {
                    ""
                },
                live("r")
            ),
            PersonDomain::Appeal => format!(
                "SELECT a.petitioner_id_number, a.petitioner_name, a.name_initials FROM appeal a WHERE {} \
                 AND a.petitioner_id_number <> '' AND {}{}",
                scope("a"),
                text("a", "petitioner_id_number"),
                live("a")
            ),
            PersonDomain::Mediation => format!(
                "SELECT p.id_number, p.name, p.name_initials FROM mediation_party p WHERE {} \
                 AND p.id_number <> '' AND {}{}",
                scope("p"),
                text("p", "id_number"),
                live("p")
            ),
            PersonDomain::Volunteer => format!(
                "SELECT v.id_number, v.name, v.name_initials FROM volunteer v WHERE {} \
                 AND v.id_number <> '' AND {}{}",
                scope("v"),
                text("v", "id_number"),
                live("v")
            ),
            PersonDomain::Corrections => format!(
                "SELECT c.id_number, c.name, c.name_initials FROM corr_case c WHERE {} \
                 AND c.id_number <> '' AND {}{}{}",
                scope("c"),
                text("c", "id_number"),
                live("c"),
                if sees_sealed_minors(role) {
                    ""
                } else {
                    " AND COALESCE(c.sealed_minor, 0) = 0"
                }
            ),
        };
        out.push(sql);
    }
    out
}

fn text(r: &Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
}

/// Columns every per-domain record query returns, in this order.
fn record_from_row(domain: PersonDomain) -> impl Fn(&Row<'_>) -> rusqlite::Result<PersonRecordRef> {
    move |r| {
        Ok(PersonRecordRef {
            domain,
            record_id: r.get(0)?,
            name: text(r, 1)?,
            org_unit_name: text(r, 2)?,
            summary: text(r, 3)?,
            date: text(r, 4)?,
            kind: text(r, 5)?,
            status: text(r, 6)?,
            merged_ids: Vec::new(),
            deleted: r.get::<_, i64>(7)? != 0,
        })
    }
}

impl Store {
    /// 一人一档: every record of the person with this ID number (18 characters, or 15 legacy digits) in
    /// the user's scope and domains, grouped by domain. Removed records are included and flagged.
    pub fn person_profile(&self, user: &SessionUser, id_number: &str) -> Result<PersonProfile> {
        let domains = person_domains(user.role);
        if domains.is_empty() {
            return Err(CoreError::Forbidden("no person records for this role"));
        }
        let id = idcard::parse(id_number)?;
        let records = self.person_records(user, &id.number)?;
        let mut names: Vec<(String, usize)> = Vec::new();
        for record in &records {
            match names.iter_mut().find(|(n, _)| *n == record.name) {
                Some((_, count)) => *count += 1,
                None if !record.name.is_empty() => names.push((record.name.clone(), 1)),
                None => {}
            }
        }
        names.sort_by_key(|n| std::cmp::Reverse(n.1));
        Ok(PersonProfile {
            id_number: id.number.clone(),
            names: names.into_iter().map(|(n, _)| n).collect(),
            sex: id.sex_code().to_string(),
            birth_date: id.birth_date.format("%Y-%m-%d").to_string(),
            records,
            visible_domains: domains,
        })
    }

    fn person_records(&self, user: &SessionUser, id_number: &str) -> Result<Vec<PersonRecordRef>> {
        let scope = self.scope_json(user)?;
        let mut out = Vec::new();
        for domain in person_domains(user.role) {
            let sql = match domain {
                // W-1: a merged registration shows as the registration it was merged into.
                PersonDomain::Resident => {
                    "SELECT r.id, r.name, o.name, \
                        TRIM(COALESCE(r.building, '') || '-' || COALESCE(r.unit, '') || '-' || COALESCE(r.room, ''), '-'), \
                        '', '', r.phone, COALESCE(r._deleted, 0) \
                     FROM resident r LEFT JOIN org_unit o ON o.id = r.org_unit_id \
                     WHERE r.id IN (SELECT COALESCE(m.merged_into, m.id) FROM resident m WHERE m.id_number = ?1) \
                       AND r.org_unit_id IN (SELECT value FROM json_each(?2)) ORDER BY r.id"
                }
                PersonDomain::Appeal => {
                    "SELECT a.id, a.petitioner_name, o.name, a.subject, a.received_on, a.class, a.status, \
                        COALESCE(a._deleted, 0) \
                     FROM appeal a LEFT JOIN org_unit o ON o.id = a.org_unit_id \
                     WHERE a.petitioner_id_number = ?1 AND a.org_unit_id IN (SELECT value FROM json_each(?2)) \
                     ORDER BY a.received_on, a.id"
                }
                PersonDomain::Mediation => {
                    "SELECT c.id, p.name, o.name, c.summary, c.accepted_on, c.dispute_type, COALESCE(c.outcome, 'open'), \
                        MAX(COALESCE(p._deleted, 0), COALESCE(c._deleted, 0)) \
                     FROM mediation_party p JOIN mediation_case c ON c.id = p.case_id \
                     LEFT JOIN org_unit o ON o.id = c.org_unit_id \
                     WHERE p.id_number = ?1 AND p.org_unit_id IN (SELECT value FROM json_each(?2)) \
                     ORDER BY c.accepted_on, c.id"
                }
                PersonDomain::Volunteer => {
                    "SELECT v.id, v.name, o.name, v.building, '', \
                        CASE WHEN COALESCE(v.building_leader, 0) = 1 THEN 'building_leader' ELSE 'volunteer' END, \
                        CASE WHEN COALESCE(v.corrections_volunteer, 0) = 1 THEN 'corrections_volunteer' ELSE '' END, \
                        COALESCE(v._deleted, 0) \
                     FROM volunteer v LEFT JOIN org_unit o ON o.id = v.org_unit_id \
                     WHERE v.id_number = ?1 AND v.org_unit_id IN (SELECT value FROM json_each(?2)) ORDER BY v.id"
                }
                PersonDomain::Corrections => {
                    if sees_sealed_minors(user.role) {
                        "SELECT c.id, c.name, o.name, COALESCE(c.sentence_start, '') || ' — ' || COALESCE(c.sentence_end, ''), \
                            COALESCE(c.reported_on, c.judgment_effective_on, ''), c.kind, c.status, COALESCE(c._deleted, 0) \
                         FROM corr_case c LEFT JOIN org_unit o ON o.id = c.org_unit_id \
                         WHERE c.id_number = ?1 AND c.org_unit_id IN (SELECT value FROM json_each(?2)) ORDER BY c.id"
                    } else {
                        // L-12: outside the judicial office and the district a sealed case does not exist.
                        "SELECT c.id, c.name, o.name, COALESCE(c.sentence_start, '') || ' — ' || COALESCE(c.sentence_end, ''), \
                            COALESCE(c.reported_on, c.judgment_effective_on, ''), c.kind, c.status, COALESCE(c._deleted, 0) \
                         FROM corr_case c LEFT JOIN org_unit o ON o.id = c.org_unit_id \
                         WHERE c.id_number = ?1 AND c.org_unit_id IN (SELECT value FROM json_each(?2)) \
                           AND COALESCE(c.sealed_minor, 0) = 0 ORDER BY c.id"
                    }
                }
            };
            let mut stmt = self.conn.prepare_cached(sql)?;
            let rows = stmt
                .query_map(params![id_number, scope], record_from_row(domain))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for mut record in rows {
                if domain == PersonDomain::Resident {
                    record.merged_ids = self
                        .conn
                        .prepare_cached(
                            "SELECT id FROM resident WHERE merged_into = ?1 ORDER BY id",
                        )?
                        .query_map([&record.record_id], |r| r.get::<_, String>(0))?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                }
                // One mediation case lists a person once even if entered as two parties.
                if !out.iter().any(|o: &PersonRecordRef| {
                    o.domain == domain && o.record_id == record.record_id
                }) {
                    out.push(record);
                }
            }
        }
        Ok(out)
    }

    /// Finds people by name, pinyin initials or ID number (any part) across the user's domains; one hit
    /// per ID number, ordered by name initials. Records without an ID number cannot be joined and stay
    /// in their own tabs.
    pub fn search_people(&self, user: &SessionUser, query: &CaseQuery) -> Result<Page<PersonHit>> {
        if person_domains(user.role).is_empty() {
            return Err(CoreError::Forbidden("no person records for this role"));
        }
        let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
        let page = query.page.max(1);
        let Needle {
            text,
            name_pattern,
            initials,
            id_pattern,
            ..
        } = needle(query.text.as_deref());
        // A typed legacy 15-digit number is upgraded so it finds the stored 18-character one.
        let id_pattern = match idcard::parse(&text) {
            Ok(id) if text.chars().count() == 15 => format!("%{}%", id.number),
            _ => id_pattern,
        };
        let scope = self.scope_json(user)?;
        let hits =
            hit_branches(user.role, query.include_deleted, !text.is_empty()).join(" UNION ALL ");
        let candidates = if text.is_empty() || !user.role.may_use_residents() {
            "[]".to_string()
        } else {
            serde_json::to_string(&self.resident_candidates(&scope, &text)?)
                .map_err(|e| CoreError::Corrupt(e.to_string()))?
        };
        let offset = (page - 1) * page_size;
        let values: [(&str, &dyn rusqlite::ToSql); 8] = [
            (":scope", &scope),
            (":text", &text),
            (":name_pattern", &name_pattern),
            (":initials", &initials),
            (":id_pattern", &id_pattern),
            (":candidates", &candidates),
            (":limit", &page_size),
            (":offset", &offset),
        ];
        let bind = |stmt: &mut rusqlite::CachedStatement<'_>| -> Result<()> {
            for (name, value) in values {
                if let Some(i) = stmt.parameter_index(name)? {
                    stmt.raw_bind_parameter(i, value)?;
                }
            }
            Ok(())
        };
        let mut count = self.conn.prepare_cached(&format!(
            "WITH hit(id_number, name, initials) AS ({hits}) SELECT COUNT(DISTINCT id_number) FROM hit"
        ))?;
        bind(&mut count)?;
        let total: u32 = count
            .raw_query()
            .next()?
            .map(|r| r.get(0))
            .transpose()?
            .unwrap_or(0);
        let mut stmt = self.conn.prepare_cached(&format!(
            "WITH hit(id_number, name, initials) AS ({hits}) \
             SELECT id_number, MIN(COALESCE(initials, '')) AS k FROM hit GROUP BY id_number \
             ORDER BY k, id_number LIMIT :limit OFFSET :offset"
        ))?;
        bind(&mut stmt)?;
        let numbers = stmt
            .raw_query()
            .mapped(|r| r.get::<_, String>(0))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut items = Vec::with_capacity(numbers.len());
        for number in numbers {
            let records = self.person_records(user, &number)?;
            let mut domains: Vec<PersonDomain> = records.iter().map(|r| r.domain).collect();
            domains.dedup();
            // The register's spelling first, else the first record's.
            let name = records
                .iter()
                .find(|r| r.domain == PersonDomain::Resident && !r.deleted)
                .or(records.first())
                .map(|r| r.name.clone())
                .unwrap_or_default();
            let (sex, birth_date) = match idcard::parse(&number) {
                Ok(id) => (
                    id.sex_code().to_string(),
                    id.birth_date.format("%Y-%m-%d").to_string(),
                ),
                Err(_) => (String::new(), String::new()),
            };
            items.push(PersonHit {
                id_number: number,
                name,
                sex,
                birth_date,
                domains,
                records: records.len() as u32,
            });
        }
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }
}
