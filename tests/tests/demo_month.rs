//! Issue 13 §6: the run command's demo district holds a month of work, written through the desktop's
//! own write paths and pushed like a desktop's: cases with check-ins, C-10/C-11 entries and a leave
//! at every office, a change of residence in progress, residents, appeals (some overdue, some not) and
//! mediation cases at every workstation, all accepted by the guard; and for the district's review a
//! concurrent edit (a conflict) and a PC with a wrong clock (held operations). A desktop enrolled with the printed code continues its site's chain, starts from its
//! snapshot, and equals the master within its scope. Runs on both backends.

use jiceng_core::model::{CaseQuery, ResidentQuery};
use jiceng_tests::{assert_site_equals_scoped_master, Site, TestServer};

/// The first 100 of a list.
const FIRST_100: CaseQuery = CaseQuery {
    text: None,
    page: 1,
    page_size: 100,
    include_deleted: false,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_month_shows_a_newcomer_every_kind_of_work() {
    let (server, demo) = TestServer::start_demo_month("demo-month");
    let month = demo["month"].as_array().expect("the month");
    assert!(month.len() >= 8, "every office and workstation: {month:?}");
    for site in month {
        assert_eq!(site["held"], 0, "the guard accepted the month: {site}");
        assert!(site["operations"].as_u64().unwrap() > 100, "{site}");
    }
    let offices: Vec<&serde_json::Value> = month
        .iter()
        .filter(|s| s["cases"].as_u64() > Some(0))
        .collect();
    assert_eq!(offices.len(), 3);
    for office in &offices {
        assert!(
            office["entries"].as_u64() > Some(10),
            "C-10/C-11 entries: {office}"
        );
        assert_eq!(
            office["leaves"], 1,
            "a leave taken and returned from: {office}"
        );
    }
    assert_eq!(
        offices
            .iter()
            .map(|o| o["transfers"].as_u64().unwrap())
            .sum::<u64>(),
        1,
        "one change of residence in progress"
    );

    // Left for the district's review: a concurrent edit and a PC's wrong clock.
    assert!(
        demo["conflicts"].as_u64() >= Some(1),
        "{}",
        demo["conflicts"]
    );
    let master = server.master();
    assert!(
        !master.conflicts().is_empty(),
        "a conflict item on the master"
    );
    assert!(
        master.held().iter().any(|h| h.code == "future_clock"),
        "a workstation PC's clock ran ahead"
    );

    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let officer = office.login("officer1");
    let cases = office.lock().list_cases(&officer, &FIRST_100).unwrap();
    assert!(cases.total >= 18, "{}", cases.total);
    assert!(
        cases.items.iter().any(|c| c.name.contains('·')),
        "minority names with the middle dot"
    );
    assert!(
        cases
            .items
            .iter()
            .any(|c| c.name.chars().any(|ch| ch as u32 > 0xFFFF)),
        "rare characters beyond the BMP"
    );
    let with_checkins = cases
        .items
        .iter()
        .filter(|c| {
            let detail = office.lock().get_case(&officer, &c.id).unwrap();
            !detail.checkins.is_empty()
        })
        .count();
    assert!(
        with_checkins >= 15,
        "check-ins through the month: {with_checkins}"
    );
    let in_transfer = cases
        .items
        .iter()
        .filter(|c| c.transfer_status.is_some())
        .count();
    assert_eq!(in_transfer, 1, "the L-6 transfer shows on the list");

    let workstation = Site::enrol(&server, &demo, "民安社区工作站").await;
    let clerk = workstation.login("clerk1");
    let query = ResidentQuery {
        page: 1,
        page_size: 200,
        ..Default::default()
    };
    let residents = workstation.lock().list_residents(&clerk, &query).unwrap();
    assert_eq!(residents.total, 60);
    let appeals = workstation.lock().list_appeals(&clerk, &query).unwrap();
    assert_eq!(appeals.total, 10);
    assert!(
        appeals.items.iter().any(|a| a.overdue) && appeals.items.iter().any(|a| !a.overdue),
        "appeals in more than one deadline state"
    );
    let mediations = workstation
        .lock()
        .list_mediations(&clerk, &FIRST_100)
        .unwrap();
    assert!(mediations.total >= 3);

    assert_site_equals_scoped_master(&server, &office, true);
    assert_site_equals_scoped_master(&server, &workstation, false);
    println!(
        "demo month: {} cases at 北新桥, {} residents, {} appeals ({} overdue), {} mediation cases at 民安",
        cases.total,
        residents.total,
        appeals.total,
        appeals.items.iter().filter(|a| a.overdue).count(),
        mediations.total
    );
}
