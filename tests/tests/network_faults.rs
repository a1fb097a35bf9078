//! Issue 10 §2: sync through a bad network. Four real sites (two offices, a workstation, the district)
//! sync through a loopback proxy that drops requests, loses replies after the server committed them,
//! cuts replies short, delays (and so reorders) and duplicates requests. The client retries with
//! backoff and jitter. Afterwards, on a good network: no operation lost, none doubled, no queue
//! wedged, every replica equal to the master within its scope. Prints the faults and the counts.
//!
//! 12 rounds by default; `JICENG_NET_ROUNDS` for more, `JICENG_NET_SEED` to vary the faults.

use jiceng_tests::proxy::{Fault, FaultyProxy};
use jiceng_tests::{
    assert_site_equals_scoped_master, site_accounting, write_record, Site, TestServer,
};

const SITES: &[(&str, &str, bool, bool)] = &[
    // (demo site, user, reads corrections, writes)
    ("北新桥街道司法所", "officer1", true, true),
    ("和平里街道司法所", "officer2", true, true),
    ("民安社区工作站", "clerk1", false, true),
    ("区司法局", "admin", true, false),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_through_a_network_that_drops_cuts_delays_and_doubles_loses_and_doubles_nothing() {
    let rounds: u64 = std::env::var("JICENG_NET_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("JICENG_NET_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    let (server, demo) = TestServer::start_demo("net-faults");
    let proxy = FaultyProxy::start(format!("127.0.0.1:{}", server.port), seed).await;
    // Enrolment on a good line (a code is used once), then the line goes bad.
    proxy.set_faulty(false);
    let mut sites = Vec::new();
    for (name, user, _, _) in SITES {
        let site = Site::enrol_via(&server, &demo, name, &proxy.url).await;
        let user = site.login(user);
        sites.push((site, user));
    }
    proxy.set_faulty(true);
    let (mut ok, mut failed, mut retries) = (0u64, 0u64, 0u64);
    for round in 0..rounds {
        for (slot, ((site, user), (_, _, _, writes))) in sites.iter().zip(SITES).enumerate() {
            if *writes {
                for i in 0..3 {
                    write_record(
                        &mut site.lock(),
                        user,
                        &format!("网{slot}-"),
                        slot as u64,
                        round * 3 + i,
                    )
                    .expect("write");
                }
            }
        }
        // All four sync at once, so delayed requests of one arrive after later ones of another.
        let outcomes = futures_join(
            sites
                .iter()
                .map(|(site, _)| site.sync())
                .collect::<Vec<_>>(),
        )
        .await;
        for outcome in outcomes {
            match outcome {
                Ok(status) => {
                    ok += 1;
                    retries += u64::from(status.last_retries);
                }
                Err(_) => failed += 1,
            }
        }
    }
    // A good network again: everything settles.
    proxy.set_faulty(false);
    for _ in 0..2 {
        for (site, _) in &sites {
            site.sync().await.expect("sync on a good network");
        }
    }
    let master = server.master();
    let (mut operations, mut lost, mut doubled, mut wedged) = (0u64, 0u64, 0u64, 0u64);
    for (site, _) in &sites {
        if site.lock().unacked_count().unwrap() > 0 {
            wedged += 1;
        }
        let (ops, l, d) = site_accounting(&master, site);
        operations += ops;
        lost += l;
        doubled += d;
    }
    let faults = proxy.counts();
    println!(
        "network faults: {faults:?}; syncs {ok} completed, {failed} gave up, {retries} retried requests; {operations} operations, lost {lost}, doubled {doubled}, wedged {wedged}"
    );
    assert_eq!((lost, doubled, wedged), (0, 0, 0));
    for fault in [
        Fault::LoseReply,
        Fault::DropRequest,
        Fault::TruncateReply,
        Fault::Duplicate,
    ] {
        assert!(
            faults.get(&fault).copied().unwrap_or(0) > 0,
            "no {fault:?} happened"
        );
    }
    assert!(retries > 0, "the client retried");
    for ((site, _), (_, _, corrections, _)) in sites.iter().zip(SITES) {
        assert_site_equals_scoped_master(&server, site, *corrections);
    }
}

/// Runs the syncs concurrently on this runtime and returns their outcomes in order.
async fn futures_join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, future) in pinned.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => outputs[i] = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
