//! L-0 / issue 3 through the real server: the district's holiday calendar reaches every site of the
//! district (judicial office and community workstation alike), and no other site can publish one.

use jiceng_core::deadlines::OFFICIAL_CALENDAR_JSON;
use jiceng_tests::{rows, Site, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l0_the_districts_calendar_flows_down_to_every_site() {
    let (server, demo) = TestServer::start_demo_tls("district-settings");
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let workstation = Site::enrol(&server, &demo, "民安社区工作站").await;
    let admin = district.login("admin");

    let mut calendar: serde_json::Value = serde_json::from_str(OFFICIAL_CALENDAR_JSON).unwrap();
    calendar["years"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "year": 2027,
            "source": "test data",
            "holidays": [{ "name": "元旦", "from": "2027-01-01", "to": "2027-01-03" }],
            "make_up_working_days": []
        }));
    district
        .lock()
        .save_calendar(&admin, Some(&calendar.to_string()))
        .unwrap();
    district.sync().await.unwrap();
    office.sync().await.unwrap();
    workstation.sync().await.unwrap();

    for site in [&office, &workstation] {
        assert_eq!(
            rows(site.lock().connection(), "local_setting", None).len(),
            1,
            "{} has the district's calendar",
            site.name
        );
    }
    let officer = office.login("officer1");
    let settings = office.lock().deadline_settings(&officer).unwrap();
    assert!(settings.calendar_local);
    assert!(settings.calendar_years.contains(&2027));
    // An office cannot publish one: refused locally, nothing queued.
    assert_eq!(
        office
            .lock()
            .save_calendar(&officer, Some(&calendar.to_string()))
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert_eq!(office.lock().unacked_count().unwrap(), 0);
    println!(
        "district settings: the 2027 calendar reached the judicial office and the workstation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d3_every_site_learns_the_names_of_the_districts_sites() {
    let (server, demo) = TestServer::start_demo_tls("site-directory");
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let workstation = Site::enrol(&server, &demo, "民安社区工作站").await;
    office.sync().await.unwrap();
    workstation.sync().await.unwrap();
    let demo_sites = demo["sites"].as_array().expect("demo sites");
    for site in [&office, &workstation] {
        let store = site.lock();
        for named in demo_sites {
            let id = named["site_id"].as_str().expect("site id");
            assert_eq!(
                store.site_name(id).unwrap().as_deref(),
                named["name"].as_str(),
                "{} knows {}",
                site.name,
                named["name"]
            );
        }
        // Besides the demo sites: the sync server itself (同步服务器).
        assert!(
            rows(store.connection(), "site_directory", None).len() > demo_sites.len(),
            "the sync server is named too"
        );
    }
    println!(
        "site directory: the office and the workstation name all {} demo sites and the server",
        demo_sites.len()
    );
}
