//! Issue 10 §7: sync by USB stick for an office with no network. A month of a judicial office's work
//! goes to the district only as signed bundle files, imported at the server in turn by the district's
//! desktop, by the admin CLI and by another office's connected desktop; the answers come back the
//! same way with what the district wrote meanwhile. Importing twice changes nothing; a tampered, a
//! foreign and a replayed-as-another-site bundle are refused with their reason; at the end nothing is
//! lost or doubled and the office equals the master within its scope.

use jiceng_core::bundle::{self, BundleKind, Outgoing};
use jiceng_core::usb_sync::{export_bundle, import_answer, relay_bundle};
use jiceng_core::SyncError;
use jiceng_tests::raw::Api;
use jiceng_tests::{
    assert_site_equals_scoped_master, run_cli, site_accounting, temp_dir, write_record, Site,
    TestServer,
};
use serde_json::Value;

/// How the answer comes back, week by week.
#[derive(Clone, Copy, Debug)]
enum Carrier {
    DistrictDesktop,
    AdminCli,
    AnotherOffice,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_an_offices_work_travels_by_usb_bundles_only() {
    let (server, demo) = TestServer::start_demo("usb");
    // The office enrols once (it got its key then) and never syncs over the network again.
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let other_office = Site::enrol(&server, &demo, "和平里街道司法所").await;
    district.sync().await.unwrap();
    let officer = office.lock().login("officer1", "jiceng-demo").unwrap();
    let admin = district.login("admin");
    let dir = temp_dir("usb-stick");
    let carriers = [
        Carrier::DistrictDesktop,
        Carrier::AdminCli,
        Carrier::AnotherOffice,
        Carrier::DistrictDesktop,
        Carrier::AdminCli,
    ];
    let (mut sent, mut delivered, mut district_edits) = (0u64, 0u64, 0u64);
    let mut n = 0u64;
    for (week, carrier) in carriers.iter().enumerate() {
        // Six working days of cases and edits at the office.
        for _ in 0..6 * 8 {
            write_record(&mut office.lock(), &officer, "盘", 0, n).unwrap();
            n += 1;
        }
        let (bytes, export) = export_bundle(&office.lock()).unwrap();
        assert!(export.file_name.ends_with(".jcsync"), "{export:?}");
        assert!(export.operations > 0);
        let file = dir.join(&export.file_name);
        std::fs::write(&file, &bytes).unwrap();
        sent += u64::from(export.operations);

        let answer = carry(&server, &district, &other_office, *carrier, &file).await;
        // The stick is read twice at the district by mistake: nothing is taken twice.
        if week == 1 {
            let again = relay_bundle(&district.store, &bytes).await.unwrap();
            let receipt = import_answer(&mut office.lock(), &again).unwrap();
            assert_eq!(receipt.still_waiting, 0);
        }
        let receipt = import_answer(&mut office.lock(), &answer).unwrap();
        assert_eq!(receipt.still_waiting, 0, "week {week}: {receipt:?}");
        delivered += u64::from(receipt.received);
        // An old answer imported after a newer one changes nothing.
        let replayed = import_answer(&mut office.lock(), &answer).unwrap();
        assert_eq!(replayed.still_waiting, 0);

        // Meanwhile the district works on the office's cases over the network: the next answer
        // carries it to the office.
        district.sync().await.unwrap();
        let cases = district
            .lock()
            .list_cases(
                &admin,
                &jiceng_core::model::CaseQuery {
                    text: Some("盘对象".to_string()),
                    page: 1,
                    page_size: 10,
                    include_deleted: false,
                },
            )
            .unwrap();
        let case = cases
            .items
            .iter()
            .find(|c| c.name.starts_with("盘对象"))
            .expect("the office's cases reached the district")
            .clone();
        district
            .lock()
            .save_case(
                &admin,
                jiceng_core::model::CaseInput {
                    address: Some(format!("区司法局核实的地址（第{}周）", week + 1)),
                    ..jiceng_core::model::CaseInput::edit_of(&case)
                },
            )
            .unwrap();
        district_edits += 1;
        district.sync().await.unwrap();
    }
    // The last trip brings the district's last edit.
    let (bytes, _) = export_bundle(&office.lock()).unwrap();
    let answer = relay_bundle(&district.store, &bytes).await.unwrap();
    let receipt = import_answer(&mut office.lock(), &answer).unwrap();
    delivered += u64::from(receipt.received);
    let verified: i64 = office
        .lock()
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM corr_case WHERE address LIKE '区司法局核实的地址%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(verified >= 1, "the district's edits reached the office");

    let master = server.master();
    let (ops, lost, doubled) = site_accounting(&master, &office);
    assert_eq!(office.lock().unacked_count().unwrap(), 0, "nothing wedged");
    assert_eq!((lost, doubled), (0, 0));
    assert_eq!(ops, sent, "every operation went by bundle");
    assert_site_equals_scoped_master(&server, &office, true);
    println!(
        "usb bundles: {} trips, {ops} operations sent, {delivered} received, {district_edits} district edits delivered, lost {lost}, doubled {doubled}, wedged 0",
        carriers.len() + 1
    );

    // A bundle with work in it for the refusals below, delivered properly at the end.
    write_record(&mut office.lock(), &officer, "盘", 0, n).unwrap();
    let (bytes, _) = export_bundle(&office.lock()).unwrap();
    refusals(&server, &office, &other_office, &district, &bytes).await;
    let answer = relay_bundle(&district.store, &bytes).await.unwrap();
    import_answer(&mut office.lock(), &answer).unwrap();
    assert_eq!(office.lock().unacked_count().unwrap(), 0);
    let (_, lost, doubled) = site_accounting(&server.master(), &office);
    assert_eq!((lost, doubled), (0, 0));
}

/// Takes the bundle file to the server the way `carrier` does and returns the answer's bytes.
async fn carry(
    server: &TestServer,
    district: &Site,
    other_office: &Site,
    carrier: Carrier,
    file: &std::path::Path,
) -> Vec<u8> {
    let bytes = std::fs::read(file).unwrap();
    match carrier {
        Carrier::DistrictDesktop => relay_bundle(&district.store, &bytes).await.unwrap(),
        Carrier::AnotherOffice => relay_bundle(&other_office.store, &bytes).await.unwrap(),
        Carrier::AdminCli => {
            let answer = file.with_extension("answer.jcsync");
            let out = run_cli(
                &server.master_path(),
                &[
                    "admin",
                    "import-bundle",
                    "--file",
                    file.to_str().unwrap(),
                    "--answer-to",
                    answer.to_str().unwrap(),
                ],
            );
            let summary: Value = serde_json::from_str(&out).unwrap();
            assert!(summary["acknowledged"].as_u64().unwrap() > 0, "{summary}");
            std::fs::read(answer).unwrap()
        }
    }
}

/// Tampered, foreign and replayed-as-another-site bundles, and answers taken to the wrong place.
async fn refusals(
    server: &TestServer,
    office: &Site,
    other_office: &Site,
    district: &Site,
    genuine: &[u8],
) {
    let api = Api::connect(server.url()).await;
    let token = district.token();
    let post = |file: Value| {
        let api = &api;
        let token = token.clone();
        async move { api.post(&token, "/api/v1/bundle", &file).await }
    };
    let file: Value = serde_json::from_slice(genuine).unwrap();

    // Changed on the way: one operation's value edited.
    let mut tampered = file.clone();
    let payload = tampered["payload"].as_str().unwrap().to_string();
    tampered["payload"] = Value::String(payload.replacen("盘对象", "改对象", 1));
    let (status, body) = post(tampered).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("bundle_signature_invalid")),
        "{body}"
    );

    // Replayed as another office's: the header renamed.
    let mut renamed = file.clone();
    renamed["site_id"] = Value::String(other_office.site_id());
    let (status, body) = post(renamed).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("bundle_signature_invalid")),
        "{body}"
    );

    // Signed by another office (it has a key) but carrying this office's operations.
    let outgoing: Outgoing = serde_json::from_str(file["payload"].as_str().unwrap()).unwrap();
    let mut carried = outgoing.clone();
    let own = office.lock().own_log().unwrap();
    carried.ops = own.into_iter().take(3).collect();
    let forged = bundle::seal(
        &bundle::key_from_token(&other_office.token()),
        BundleKind::Outgoing,
        &other_office.site_id(),
        1,
        &carried,
    )
    .unwrap();
    let (status, body) = post(serde_json::from_slice(&forged).unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("bundle_site_mismatch")),
        "{body}"
    );

    // Foreign: a site this district never enrolled (another district's, or made up).
    let foreign = bundle::seal(
        &bundle::key_from_token("another-districts-token"),
        BundleKind::Outgoing,
        "site-of-another-district",
        1,
        &outgoing,
    )
    .unwrap();
    let (status, body) = post(serde_json::from_slice(&foreign).unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("bundle_unknown_site")),
        "{body}"
    );

    // An answer is not imported at the server, and another office's answer not at this one.
    let (empty, _) = export_bundle(&other_office.lock()).unwrap();
    let answer = relay_bundle(&district.store, &empty).await.unwrap();
    let (status, body) = post(serde_json::from_slice(&answer).unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("bundle_kind")),
        "{body}"
    );
    let err = import_answer(&mut office.lock(), &answer).unwrap_err();
    assert!(matches!(&err, SyncError::Bundle(_)), "{err:?}");
    assert_eq!(err.code(), "bundle_other_site");
    assert!(
        err.message_zh().contains("其他站点"),
        "{}",
        err.message_zh()
    );
    // A relaying desktop refuses an answer before sending it, in Chinese.
    let err = relay_bundle(&district.store, &answer).await.unwrap_err();
    assert_eq!(err.code(), "bundle_kind");
    // Nothing of the refused bundles reached the master.
    let (_, lost, _) = site_accounting(&server.master(), office);
    assert_eq!(
        lost,
        outgoing.ops.len() as u64,
        "only the genuine bundle's work, not yet delivered, is missing"
    );
    println!("usb bundles refused: tampered, renamed, another site's operations, foreign site, answer as upload, answer at the wrong office");
}
