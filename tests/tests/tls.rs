//! Issue 11 §2: the server serves HTTPS with a district CA made by `jiceng-server tls-init`; desktops
//! enrol with the address that carries the CA's fingerprint and sync over TLS pinned to it; a desktop
//! given another fingerprint, an https address without one, or plain http beyond this PC is refused
//! with a clear reason.

use jiceng_tests::{assert_site_equals_scoped_master, write_record, Site, TestServer};
use std::sync::Mutex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_enrol_and_sync_over_tls_pinned_to_the_district_ca() {
    let (server, demo) = TestServer::start_demo_tls("tls");
    let address = server.enrolment_address();
    assert!(address.starts_with("https://127.0.0.1:") && address.contains("#sha256="));
    let office = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let workstation = Site::enrol(&server, &demo, "民安社区工作站").await;
    let district = Site::enrol(&server, &demo, "区司法局").await;
    let identity = office.lock().identity().unwrap().unwrap();
    assert!(identity.server_url.starts_with("https://"));
    assert_eq!(identity.tls_pin.as_deref().map(str::len), Some(64));
    let officer = office.login("officer1");
    let clerk = workstation.login("clerk1");
    for n in 0..20 {
        write_record(&mut office.lock(), &officer, "密", 0, n).unwrap();
        write_record(&mut workstation.lock(), &clerk, "密", 1, n).unwrap();
    }
    for site in [&office, &workstation, &district, &office] {
        site.sync().await.unwrap();
    }
    assert_site_equals_scoped_master(&server, &office, true);
    assert_site_equals_scoped_master(&server, &workstation, false);
    assert_site_equals_scoped_master(&server, &district, true);

    // Another fingerprint: the handshake is refused and nothing is sent.
    let code = server.new_code(&office.site_id());
    let (base, _) = address.split_once('#').unwrap();
    let forged = format!("{base}#sha256={}", "0".repeat(64));
    let stranger = Mutex::new(jiceng_core::Store::open_in_memory().unwrap());
    let err = jiceng_core::sync::enrol(&stranger, &forged, &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "tls_certificate", "{err:?}");
    assert!(err.message_zh().contains("证书"), "{}", err.message_zh());
    // An https address without its fingerprint, and plain http to another machine.
    let err = jiceng_core::sync::enrol(&stranger, base, &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "tls_pin_missing");
    assert!(err.message_zh().contains("指纹"));
    let err = jiceng_core::sync::enrol(&stranger, "http://192.0.2.7:8470", &code)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "plain_http_refused");
    // The code was not spent by the refused attempts.
    jiceng_core::sync::enrol(&stranger, &address, &code)
        .await
        .unwrap();
    println!("tls: three sites enrolled and synced over https pinned to the district CA; a wrong pin, a missing pin and plain http were refused");
}
