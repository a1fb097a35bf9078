//! The replicated site directory (D-3: histories and conflict items name the PC a version came from).

use jiceng_core::model::OrgKind;
use jiceng_server::master::{MasterStore, SqliteMaster};

#[test]
fn d3_sites_are_named_when_created_and_an_older_masters_long_names_do_not_stop_it_opening() {
    let dir = std::env::temp_dir().join(format!("jiceng-sites-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("master.sqlite");
    let mut master = SqliteMaster::open(&path).unwrap();
    let district = master
        .add_org_unit(None, OrgKind::District, "示范区")
        .unwrap();
    let unit = master
        .add_org_unit(Some(&district), OrgKind::Township, "北新桥街道")
        .unwrap();
    let (laptop, _) = master
        .add_site(&unit, "北新桥街道司法所-笔记本𠀀", 0)
        .unwrap();
    let named = |master: &SqliteMaster, id: &str| -> Option<(String, String)> {
        master
            .connection()
            .query_row(
                "SELECT name, district_id FROM site_directory WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()
    };
    assert_eq!(
        named(&master, &laptop),
        Some(("北新桥街道司法所-笔记本𠀀".to_string(), district.clone())),
        "scoped to the district, so that it flows down to every site"
    );
    // The server itself is named once its district exists.
    let server_named: i64 = master
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM site_directory WHERE name = '同步服务器'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(server_named, 1);
    // A name the directory cannot keep is refused before anything is written.
    let long = "长".repeat(101);
    assert!(master.add_site(&unit, &long, 0).is_err());
    let sites: i64 = master
        .connection()
        .query_row("SELECT COUNT(*) FROM site", [], |r| r.get(0))
        .unwrap();
    // An older master may hold such a site already (written before the limit): it still opens, and
    // the site is named with the first 100 characters.
    master
        .connection()
        .execute(
            "INSERT INTO site (id, name, org_unit_id, created_at_ms) VALUES ('old-site', ?1, ?2, 0)",
            rusqlite::params![long, unit],
        )
        .unwrap();
    drop(master);
    let master = SqliteMaster::open(&path).unwrap();
    assert_eq!(
        named(&master, "old-site").map(|n| n.0.chars().count()),
        Some(100)
    );
    let after: i64 = master
        .connection()
        .query_row("SELECT COUNT(*) FROM site", [], |r| r.get(0))
        .unwrap();
    assert_eq!(after, sites + 1);
    drop(master);
    let _ = std::fs::remove_dir_all(&dir);
}
