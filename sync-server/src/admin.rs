//! Administration of the district (D-2): the org tree, sites and their enrolment codes, users, and the
//! demo district used by the README's run command.

use crate::error::Result;
use crate::master::MasterStore;
use jiceng_core::model::{CaseInput, CaseKind, CaseStatus, OrgKind, Role, SupervisionLevel};
use serde::Serialize;

/// Password of every demo user (printed by `admin demo`; demo data only).
pub const DEMO_PASSWORD: &str = "jiceng-demo";

#[derive(Debug, Clone, Serialize)]
pub struct DemoSite {
    pub name: String,
    pub site_id: String,
    pub org_unit_id: String,
    pub kind: String,
    pub enrolment_code: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoUser {
    pub username: String,
    pub password: String,
    pub role: String,
    pub org_unit: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoDistrict {
    pub district_id: String,
    pub sites: Vec<DemoSite>,
    pub users: Vec<DemoUser>,
}

impl DemoDistrict {
    pub fn site(&self, name: &str) -> Option<&DemoSite> {
        self.sites.iter().find(|s| s.name == name)
    }
}

struct Township {
    name: &'static str,
    communities: &'static [&'static str],
    officer: &'static str,
}

const TOWNSHIPS: &[Township] = &[
    Township {
        name: "北新桥街道",
        communities: &["民安社区", "交道口社区"],
        officer: "officer1",
    },
    Township {
        name: "和平里街道",
        communities: &["和平里社区", "青年湖社区"],
        officer: "officer2",
    },
    Township {
        name: "龙潭乡",
        communities: &["龙潭村"],
        officer: "officer3",
    },
];

/// Creates a demo district: townships with their judicial offices, communities with their workstations,
/// a site and a user for each, and a few cases (names with rare characters among them).
pub fn seed_demo(master: &mut dyn MasterStore, now_ms: u64) -> Result<DemoDistrict> {
    seed_demo_registered(master, now_ms)
}

/// [`seed_demo`] with its sites registered at `registered_at_ms` (a month of demo work written before
/// today needs sites that existed then: the server holds operations older than their site).
pub fn seed_demo_registered(
    master: &mut dyn MasterStore,
    registered_at_ms: u64,
) -> Result<DemoDistrict> {
    let district_id = master.add_org_unit(None, OrgKind::District, "示范区")?;
    let mut sites = Vec::new();
    let mut users = Vec::new();
    let mut add_site =
        |master: &mut dyn MasterStore, unit: &str, name: String, kind: OrgKind| -> Result<()> {
            let (site_id, code) = master.add_site(unit, &name, registered_at_ms)?;
            sites.push(DemoSite {
                name,
                site_id,
                org_unit_id: unit.to_string(),
                kind: kind.code().to_string(),
                enrolment_code: code,
            });
            Ok(())
        };
    add_site(
        master,
        &district_id,
        "区司法局".to_string(),
        OrgKind::District,
    )?;
    master.add_user(
        "admin",
        "区司法局管理员",
        Role::DistrictAdmin,
        &district_id,
        DEMO_PASSWORD,
    )?;
    users.push(demo_user("admin", Role::DistrictAdmin, "示范区"));
    let mut first_township = None;
    let mut clerk_number = 0;
    for township in TOWNSHIPS {
        let unit = master.add_org_unit(Some(&district_id), OrgKind::Township, township.name)?;
        first_township.get_or_insert(unit.clone());
        add_site(
            master,
            &unit,
            format!("{}司法所", township.name),
            OrgKind::Township,
        )?;
        master.add_user(
            township.officer,
            &format!("{}矫正专干", township.name),
            Role::JudicialOfficer,
            &unit,
            DEMO_PASSWORD,
        )?;
        users.push(demo_user(
            township.officer,
            Role::JudicialOfficer,
            township.name,
        ));
        for community in township.communities {
            let unit = master.add_org_unit(Some(&unit), OrgKind::Community, community)?;
            add_site(
                master,
                &unit,
                format!("{community}工作站"),
                OrgKind::Community,
            )?;
            clerk_number += 1;
            let username = format!("clerk{clerk_number}");
            master.add_user(
                &username,
                &format!("{community}工作人员"),
                Role::CommunityClerk,
                &unit,
                DEMO_PASSWORD,
            )?;
            users.push(demo_user(&username, Role::CommunityClerk, community));
        }
    }
    if let Some(unit) = first_township {
        for (name, id_number, kind, start, end) in [
            (
                "张𠀀明",
                "110101199003074514",
                CaseKind::Probation,
                "2026-03-01",
                "2028-02-29",
            ),
            (
                "欧阳䶮",
                "110101198512120027",
                CaseKind::Parole,
                "2026-07-15",
                "2027-07-14",
            ),
            (
                "李四",
                "11010519491231002X",
                CaseKind::TemporaryOutside,
                "2026-01-10",
                "2026-12-31",
            ),
        ] {
            master.add_case_as_admin(CaseInput {
                id: None,
                name: name.to_string(),
                id_number: id_number.to_string(),
                kind,
                sentence_start: start.to_string(),
                sentence_end: end.to_string(),
                org_unit_id: Some(unit.clone()),
                status: Some(CaseStatus::InCorrection),
                judgment_effective_on: None,
                reported_on: None,
                supervision_level: Some(SupervisionLevel::Normal),
                sealed_minor: None,
                address: None,
            })?;
        }
    }
    Ok(DemoDistrict {
        district_id,
        sites,
        users,
    })
}

fn demo_user(username: &str, role: Role, unit: &str) -> DemoUser {
    DemoUser {
        username: username.to_string(),
        password: DEMO_PASSWORD.to_string(),
        role: role.code().to_string(),
        org_unit: unit.to_string(),
    }
}
