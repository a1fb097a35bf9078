//! End to end: the real desktop app under Xvfb, driven through tauri-driver + WebKitWebDriver.
//! Enrol with a code, log in, create a case (with a 生僻字 name) while the server is down, see it waiting,
//! start the server, sync, and find the case in the master through the server's API; then add a check-in.
//! Screenshots of the key screens go to docs/screenshots/.

use jiceng_tests::desktop::{start_app, start_desktop};
use jiceng_tests::webdriver::WebDriver;
use jiceng_tests::{Site, TestServer};
use std::path::PathBuf;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn screenshots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
}

fn enrolment_code(demo: &serde_json::Value, site: &str) -> String {
    demo["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == site)
        .unwrap()["enrolment_code"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Issue 11 §1: no file of the desktop's data dir (store, WAL, key file, backups) holds any of `secrets`
/// in clear, nor a plain SQLite header.
fn encrypted_at_rest(data_dir: &std::path::Path, secrets: &[&str]) -> Result<(), String> {
    let mut stack = vec![data_dir.to_path_buf()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            let needles = secrets
                .iter()
                .map(|s| s.as_bytes())
                .chain([&b"SQLite format 3"[..]]);
            for needle in needles {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    return Err(format!(
                        "{} holds {:?} in clear",
                        path.display(),
                        String::from_utf8_lossy(needle)
                    ));
                }
            }
        }
    }
    if files < 2 {
        return Err(format!(
            "expected a store and its key file in {}",
            data_dir.display()
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_creates_a_case_offline_and_it_reaches_the_master() {
    let (mut server, demo) = TestServer::start_demo_tls("e2e");
    let code = enrolment_code(&demo, "北新桥街道司法所");
    let desktop = start_desktop(&server, "desktop").await;
    let wd = &desktop.wd;
    let shots = screenshots_dir();
    let result = drive(wd, &mut server, &code, &demo, &shots).await;
    if result.is_err() {
        let _ = wd
            .screenshot(&std::env::temp_dir().join("jiceng-e2e-failure.png"))
            .await;
    }
    wd.quit().await;
    result.expect("end-to-end scenario");
}

async fn drive(
    wd: &WebDriver,
    server: &mut TestServer,
    code: &str,
    demo: &serde_json::Value,
    shots: &std::path::Path,
) -> Result<(), String> {
    // First run: enrolment screen.
    wd.wait_for("[data-testid=enrol-view]", WAIT).await?;
    wd.type_into(
        "[data-testid=enrol-server] input",
        &server.enrolment_address(),
    )
    .await?;
    wd.type_into("[data-testid=enrol-code] input", code).await?;
    wd.screenshot(&shots.join("01-enrol.png")).await?;
    wd.click_css("[data-testid=enrol-submit]").await?;

    // Login with the demo officer (users arrived with the first sync).
    wd.wait_for("[data-testid=login-view]", WAIT).await?;
    wd.type_into("[data-testid=login-username] input", "officer1")
        .await?;
    wd.type_into("[data-testid=login-password] input", "wrong-password")
        .await?;
    wd.click_css("[data-testid=login-submit]").await?;
    let error = wd.wait_for("[data-testid=login-error]", WAIT).await?;
    let message = wd.text(&error).await?;
    if !message.contains("密码") {
        return Err(format!("login error should be in Chinese, got {message:?}"));
    }
    wd.type_into("[data-testid=login-password] input", "jiceng-demo")
        .await?;
    wd.click_css("[data-testid=login-submit]").await?;
    wd.wait_for("[data-testid=main-view]", WAIT).await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=case-row]').length === 3",
        WAIT,
    )
    .await?;

    // Search by pinyin initials: 欧阳䶮 → "oy".
    wd.type_into("[data-testid=case-search] input", "oy")
        .await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=case-row]').length === 1",
        WAIT,
    )
    .await?;
    wd.type_into("[data-testid=case-search] input", "").await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=case-row]').length === 3",
        WAIT,
    )
    .await?;

    // The server goes down; the officer keeps working.
    server.kill();
    wd.click_css("[data-testid=case-new]").await?;
    wd.wait_for("[data-testid=case-form]", WAIT).await?;
    let name = "赵𪚥";
    let id_number = "11010119900307451X";
    wd.type_into("[data-testid=case-form-name] input", name)
        .await?;
    // A wrong check digit first: the core's Chinese message is shown and nothing is saved.
    wd.type_into("[data-testid=case-form-idnumber] input", id_number)
        .await?;
    wd.click_css("[data-testid=case-form-kind]").await?;
    wd.click_css("[data-testid=case-form-kind-parole]").await?;
    // A period that has already run, so the case can be released at the end (L-10: on expiry).
    wd.type_into("[data-testid=case-form-start] input", "2025-11-03")
        .await?;
    wd.press_enter("[data-testid=case-form-start] input")
        .await?;
    wd.type_into("[data-testid=case-form-end] input", "2026-11-20")
        .await?;
    wd.press_enter("[data-testid=case-form-end] input").await?;
    wd.click_css("[data-testid=case-form-save]").await?;
    let error = wd.wait_for("[data-testid=case-form-error]", WAIT).await?;
    let message = wd.text(&error).await?;
    if !message.contains("校验") {
        return Err(format!("expected the ID checksum error, got {message:?}"));
    }
    wd.type_into(
        "[data-testid=case-form-idnumber] input",
        "110101199003074514",
    )
    .await?;
    wd.screenshot(&shots.join("03-case-form.png")).await?;
    // The demo already holds 110101199003074514 (张𠀀明): the duplicate is refused too.
    wd.click_css("[data-testid=case-form-save]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=case-form-error]')||{}).textContent?.includes('已有在册')",
        WAIT,
    )
    .await?;
    wd.type_into(
        "[data-testid=case-form-idnumber] input",
        "320102198807150130",
    )
    .await?;
    wd.click_css("[data-testid=case-form-save]").await?;
    // Saved: the case opens, marked as waiting for sync.
    wd.wait_until(
        &format!("(document.querySelector('[data-testid=detail-name]')||{{}}).textContent?.includes('{name}')"),
        WAIT,
    )
    .await?;
    wd.wait_for("[data-testid=detail-pending]", WAIT).await?;
    wd.click_css("[data-testid=sync-now]").await?;
    wd.wait_until(
        "document.querySelector('[data-testid=status-online]').dataset.online === 'false'",
        WAIT,
    )
    .await?;
    wd.wait_until(
        "Number(document.querySelector('[data-testid=status-pending]').dataset.pending) > 0",
        WAIT,
    )
    .await?;
    wd.wait_for("[data-testid=status-error]", WAIT).await?;
    wd.click_css("[data-testid=detail-back]").await?;
    wd.wait_until(&format!(
        "[...document.querySelectorAll('[data-testid=case-row]')].some(r => r.offsetParent && r.textContent.includes('{name}') && r.querySelector('[data-testid=case-row-pending]'))"
    ), WAIT)
    .await?;
    tokio::time::sleep(Duration::from_millis(3500)).await; // let the toasts fade before the screenshot
    wd.screenshot(&shots.join("02-case-list-offline.png"))
        .await?;

    // The server is back: sync now and nothing is waiting any more.
    server.start();
    wd.click_css("[data-testid=sync-now]").await?;
    wd.wait_until(
        "document.querySelector('[data-testid=status-online]').dataset.online === 'true'",
        WAIT,
    )
    .await?;
    wd.wait_until(
        "Number(document.querySelector('[data-testid=status-pending]').dataset.pending) === 0",
        WAIT,
    )
    .await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=case-row-pending]').length === 0",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    wd.screenshot(&shots.join("04-case-list-synced.png"))
        .await?;

    // Issue 11 §1: the store on disk is encrypted; signing out closes it, and the next sign-in opens
    // it from the key file (wrong password first: nothing opens).
    encrypted_at_rest(&server.dir.join("desktop"), &[name, "320102198807150130"])?;
    wd.click_css("[data-testid=logout]").await?;
    wd.click_css("[data-testid=confirm-ok]").await?;
    wd.wait_for("[data-testid=login-view]", WAIT).await?;
    wd.wait_for("[data-testid=status-store-locked]", WAIT)
        .await?;
    wd.wait_for("[data-testid=login-encrypted]", WAIT).await?;
    wd.type_into("[data-testid=login-username] input", "officer1")
        .await?;
    wd.type_into("[data-testid=login-password] input", "wrong-password")
        .await?;
    wd.click_css("[data-testid=login-submit]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=login-error]')||{}).textContent?.includes('密码')",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    wd.screenshot(&shots.join("33-login-encrypted.png")).await?;
    wd.type_into("[data-testid=login-password] input", "jiceng-demo")
        .await?;
    wd.click_css("[data-testid=login-submit]").await?;
    wd.wait_for("[data-testid=main-view]", WAIT).await?;
    wd.wait_until(
        &format!(
            "[...document.querySelectorAll('[data-testid=case-row]')].some(r => r.textContent.includes('{name}'))"
        ),
        WAIT,
    )
    .await?;

    // The master has it: read through the server's API with the district's token.
    let district = Site::enrol(server, demo, "区司法局").await;
    let api = jiceng_tests::raw::Api::connect(server.enrolment_address()).await;
    let (_, body) = api
        .get(
            Some(&district.token()),
            "/api/v1/records/corr_case?limit=1000",
        )
        .await;
    let found = body["records"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == name)
        .ok_or_else(|| format!("case {name} not in the master: {body}"))?;
    if found["id_number"] != "320102198807150130"
        || found["kind"] != "parole"
        || found["sentence_end"] != "2026-11-20"
    {
        return Err(format!("master row differs: {found}"));
    }

    // Open the case and add a check-in.
    let rows = wd.find_all("[data-testid=case-row]").await?;
    let mut opened = false;
    for row in rows {
        if wd.text(&row).await?.contains(name) {
            wd.click(&row).await?;
            opened = true;
            break;
        }
    }
    if !opened {
        return Err("row not found".into());
    }
    wd.wait_for("[data-testid=case-detail]", WAIT).await?;

    // Intake (C-3, L-1): the judgment received from the court goes on file.
    add_document(wd, "judgment", None, "（2025）京0101刑初1024号").await?;
    // The subject reports (C-5) and the correction begins: the lifecycle through the form, which offers
    // only the legal next statuses.
    for (status, label) in [("reported", "已报到"), ("in_correction", "在矫")] {
        set_status(wd, status, label).await?;
    }
    // The case file (C-7, C-8, C-9): the father, the plan and the agreement he signs.
    wd.click_css("[data-testid=person-add]").await?;
    wd.wait_for("[data-testid=person-dialog]", WAIT).await?;
    wd.type_into("input[data-testid=person-name]", "赵𠀀福")
        .await?;
    wd.click_css("[data-testid=person-sex-male]").await?;
    wd.type_into("input[data-testid=person-relation]", "父亲")
        .await?;
    wd.type_into("input[data-testid=person-phone]", "13800138000")
        .await?;
    wd.click_css("[data-testid=person-save]").await?;
    wd.wait_until(
        "[...document.querySelectorAll('[data-testid=person-row-name]')].some(e => e.textContent === '赵𠀀福')",
        WAIT,
    )
    .await?;
    wd.click_css("[data-testid=plan-edit]").await?;
    wd.wait_for("[data-testid=plan-dialog]", WAIT).await?;
    wd.type_into(
        "textarea[data-testid=plan-text-input]",
        "普管：每周电话报告一次，每月书面报告一次；每月参加公益劳动和集中教育。",
    )
    .await?;
    let today_text = jiceng_tests::raw::shanghai_day(0);
    for picker in ["plan-made-on", "plan-agreement-date"] {
        wd.type_into(&format!("[data-testid={picker}] input"), &today_text)
            .await?;
        wd.press_enter(&format!("[data-testid={picker}] input"))
            .await?;
    }
    wd.click_css("[data-testid=plan-guarantor]").await?;
    wd.click_css("[data-testid^=plan-guarantor-0]").await?;
    wd.click_css("[data-testid=plan-guarantor-kind]").await?;
    wd.click_css("[data-testid=plan-guarantor-kind-direct_relative]")
        .await?;
    wd.click_css("[data-testid=plan-save]").await?;
    wd.wait_until(
        &format!("(document.querySelector('[data-testid=plan-agreement-on]')||{{}}).textContent === '{today_text}'"),
        WAIT,
    )
    .await?;
    // The file names what is still missing: no team yet (C-8) — a check, not a refusal.
    wd.wait_until(
        "[...document.querySelectorAll('[data-testid=file-check]')].some(e => e.dataset.rule === 'C-8' && e.dataset.severity === 'required')",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    wd.script(
        "document.querySelector('[data-testid=casefile-section]').scrollIntoView();",
        serde_json::json!([]),
    )
    .await?;
    wd.screenshot(&shots.join("12-case-file.png")).await?;

    wd.click_css("[data-testid=checkin-add]").await?;
    wd.wait_for("[data-testid=checkin-dialog]", WAIT).await?;
    wd.type_into(
        "[data-testid=checkin-note] textarea, [data-testid=checkin-note] input",
        "首次报到，已告知矫正期间应遵守的规定",
    )
    .await?;
    wd.click_css("[data-testid=checkin-save]").await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=checkin-row-time]').length === 1",
        WAIT,
    )
    .await?;
    // A labour entry (C-10): the dialog opens on 社会公益劳动 with two hours.
    // A month of it (October 2026, inside the period): two working days of labour (C-10) and one
    // two-hour group education (C-11) make the month compliant.
    for (n, (kind, on, minutes, note)) in [
        ("labour", "2026-10-12", "480", "社区环境整治"),
        ("labour", "2026-10-19", "480", "敬老院帮扶"),
        ("group_education", "2026-10-15", "120", "法治教育讲座"),
    ]
    .into_iter()
    .enumerate()
    {
        wd.click_css("[data-testid=entry-add]").await?;
        wd.wait_for("[data-testid=entry-dialog]", WAIT).await?;
        wd.click_css("[data-testid=entry-kind]").await?;
        wd.click_css(&format!("[data-testid=entry-kind-{kind}]"))
            .await?;
        wd.type_into("[data-testid=entry-date] input", on).await?;
        wd.press_enter("[data-testid=entry-date] input").await?;
        wd.type_into("[data-testid=entry-minutes] input", minutes)
            .await?;
        wd.type_into("[data-testid=entry-note] textarea", note)
            .await?;
        wd.click_css("[data-testid=entry-save]").await?;
        wd.wait_until(
            &format!(
                "document.querySelectorAll('[data-testid=entry-row-kind]').length === {}",
                n + 1
            ),
            WAIT,
        )
        .await?;
    }
    wd.wait_until(
        "['labour', 'education'].every(k => [...document.querySelectorAll(`[data-testid=compliance-${k}]`)].some(e => e.dataset.month === '2026-10' && e.dataset.ok === 'true'))",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    wd.screenshot(&shots.join("05-case-detail.png")).await?;

    // L-5: a twelve-day trip needs the county; the officer approves it provisionally, offline, numbered.
    let shanghai_today = jiceng_core::shanghai::today(jiceng_tests::raw::now_ms());
    let day = |n: u64| {
        (shanghai_today + chrono::Days::new(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    wd.click_css("[data-testid=leave-add]").await?;
    wd.wait_for("[data-testid=leave-dialog]", WAIT).await?;
    wd.type_into("[data-testid=leave-destination] input", "广东省深圳市")
        .await?;
    wd.type_into("[data-testid=leave-reason] input", "探望住院的父亲")
        .await?;
    wd.type_into("[data-testid=leave-start] input", &day(20))
        .await?;
    wd.press_enter("[data-testid=leave-start] input").await?;
    wd.type_into("[data-testid=leave-end] input", &day(31))
        .await?;
    wd.press_enter("[data-testid=leave-end] input").await?;
    wd.click_css("[data-testid=leave-save]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=leave-status]')||{dataset:{}}).dataset.status === 'requested'",
        WAIT,
    )
    .await?;
    wd.click_css("[data-testid=leave-provisional]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=leave-status]')||{dataset:{}}).dataset.status === 'provisional'",
        WAIT,
    )
    .await?;
    let number = wd
        .wait_for("[data-testid=leave-provisional-no]", WAIT)
        .await?;
    if !wd.text(&number).await?.starts_with('临') {
        return Err("the provisional approval has no number".into());
    }
    // The laptop syncs; the county (the district bureau) confirms; the decision syncs back (L-5).
    wd.click_css("[data-testid=sync-now]").await?;
    wd.wait_until(
        "Number(document.querySelector('[data-testid=status-pending]').dataset.pending) === 0",
        WAIT,
    )
    .await?;
    district.sync().await.map_err(|e| e.to_string())?;
    let admin = district.login("admin");
    let leave_id = {
        let store = district.lock();
        let case_id = store
            .list_cases(
                &admin,
                &jiceng_core::model::CaseQuery {
                    text: Some(name.to_string()),
                    page: 1,
                    page_size: 10,
                    include_deleted: false,
                },
            )
            .map_err(|e| e.to_string())?
            .items
            .first()
            .ok_or("the district has not received the case")?
            .id
            .clone();
        let detail = store
            .get_case(&admin, &case_id)
            .map_err(|e| e.to_string())?;
        detail
            .leaves
            .first()
            .ok_or("the district has not received the leave")?
            .id
            .clone()
    };
    district
        .lock()
        .decide_leave(
            &admin,
            &leave_id,
            jiceng_core::model::LeaveDecision::Approve,
            "县局审批同意",
        )
        .map_err(|e| e.to_string())?;
    district.sync().await.map_err(|e| e.to_string())?;
    wd.click_css("[data-testid=sync-now]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=leave-status]')||{dataset:{}}).dataset.status === 'approved'",
        WAIT,
    )
    .await?;

    // C-14: a quarterly assessment, then its A4 form in print preview.
    wd.click_css("[data-testid=assessment-add]").await?;
    wd.wait_for("[data-testid=assessment-dialog]", WAIT).await?;
    wd.type_into(
        "[data-testid=assessment-opinion] textarea",
        "遵守规定，按时报到，积极参加公益劳动。",
    )
    .await?;
    wd.click_css("[data-testid=assessment-save]").await?;
    wd.wait_for("[data-testid=assessment-sheet]", WAIT).await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=sheet-total]')||{}).textContent === '100'",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wd.screenshot(&shots.join("07-assessment-print.png"))
        .await?;
    wd.script(
        "document.querySelector('[data-testid=assessment-print] .el-dialog__headerbtn').click();",
        serde_json::json!([]),
    )
    .await?;

    // Release (the period ended on 2026-11-20).
    // C-17: release is refused until the self-appraisal, review meeting and appraisal are on file.
    wd.click_css("[data-testid=case-edit]").await?;
    wd.wait_for("[data-testid=case-form]", WAIT).await?;
    wd.click_css("[data-testid=case-form-status]").await?;
    wd.click_css("[data-testid=case-form-status-released]")
        .await?;
    wd.click_css("[data-testid=case-form-save]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=case-form-error]')||{}).textContent?.includes('自我鉴定')",
        WAIT,
    )
    .await?;
    wd.click_css("[data-testid=case-form-cancel]").await?;
    for doc in ["self_appraisal", "review_meeting", "appraisal"] {
        add_document(wd, doc, None, "").await?;
    }
    set_status(wd, "released", "解除").await?;
    // L-10: the certificate and the notices follow the release.
    add_document(wd, "release_certificate", None, "京示矫解字〔2026〕7号").await?;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    wd.script(
        "document.querySelector('[data-testid=document-section]').scrollIntoView();",
        serde_json::json!([]),
    )
    .await?;
    wd.screenshot(&shots.join("13-documents.png")).await?;
    wd.script(
        "document.querySelector('[data-testid=case-detail]').scrollIntoView();",
        serde_json::json!([]),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    wd.screenshot(&shots.join("11-released.png")).await?;

    // L-6: 李四 moves to 和平里. The officer records the application; the county approves; after sync
    // the case shows as in transfer.
    wd.click_css("[data-testid=detail-back]").await?;
    open_case(wd, "李四").await?;
    wd.click_css("[data-testid=transfer-apply]").await?;
    wd.wait_for("[data-testid=transfer-apply-dialog]", WAIT)
        .await?;
    wd.type_into(
        "input[data-testid=transfer-destination]",
        "和平里街道青年湖小区",
    )
    .await?;
    wd.type_into(
        "textarea[data-testid=transfer-reason]",
        "工作调动，随家人搬迁",
    )
    .await?;
    wd.type_into("[data-testid=transfer-move-on] input", &day(40))
        .await?;
    wd.press_enter("[data-testid=transfer-move-on] input")
        .await?;
    wd.click_css("[data-testid=transfer-apply-save]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=transfer-status]')||{dataset:{}}).dataset.status === 'applied'",
        WAIT,
    )
    .await?;
    wd.click_css("[data-testid=sync-now]").await?;
    wd.wait_until(
        "Number(document.querySelector('[data-testid=status-pending]').dataset.pending) === 0",
        WAIT,
    )
    .await?;
    district.sync().await.map_err(|e| e.to_string())?;
    let (transfer_id, receiving_unit) = {
        let store = district.lock();
        let case_id: String = store
            .connection()
            .query_row("SELECT id FROM corr_case WHERE name = '李四'", [], |r| {
                r.get(0)
            })
            .map_err(|e| e.to_string())?;
        let transfer = store
            .get_case(&admin, &case_id)
            .map_err(|e| e.to_string())?
            .transfers
            .into_iter()
            .next()
            .ok_or("the district has not received the application")?;
        let unit: String = store
            .connection()
            .query_row(
                "SELECT id FROM org_unit WHERE name = '和平里街道'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())?;
        (transfer.id, unit)
    };
    district
        .lock()
        .act_on_transfer(
            &admin,
            &transfer_id,
            jiceng_core::transfer::TransferStep {
                action: jiceng_core::transfer::TransferAction::Approve,
                to_org_unit_id: Some(receiving_unit),
                on: None,
                note: "同意变更执行地".into(),
            },
        )
        .map_err(|e| e.to_string())?;
    district.sync().await.map_err(|e| e.to_string())?;
    wd.click_css("[data-testid=sync-now]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=transfer-status]')||{dataset:{}}).dataset.status === 'in_transit'",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    wd.script(
        "document.querySelector('[data-testid=transfer-section]').scrollIntoView();",
        serde_json::json!([]),
    )
    .await?;
    wd.screenshot(&shots.join("14-transfer.png")).await?;

    // L-2: a court's request for a pre-decision assessment, with its 10-working-day clock.
    wd.click_css("[data-testid=detail-back]").await?;
    click_nav(wd, "[data-testid=nav-investigations]").await?;
    wd.wait_for("[data-testid=investigation-list]", WAIT)
        .await?;
    wd.click_css("[data-testid=investigation-add]").await?;
    wd.wait_for("[data-testid=investigation-dialog]", WAIT)
        .await?;
    wd.type_into("input[data-testid=investigation-name]", "钱𠀀生")
        .await?;
    wd.type_into(
        "input[data-testid=investigation-organ-name]",
        "示范区人民法院",
    )
    .await?;
    wd.type_into(
        "input[data-testid=investigation-residence]",
        "北新桥街道民安小区",
    )
    .await?;
    wd.click_css("[data-testid=investigation-save]").await?;
    wd.wait_until(
        "[...document.querySelectorAll('[data-testid=investigation-row-name]')].some(e => e.textContent === '钱𠀀生')",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    wd.screenshot(&shots.join("15-investigations.png")).await?;

    // The daily digest lists the statutory clocks of the office's cases (L-6 for 李四, L-2 among them).
    click_nav(wd, "[data-testid=nav-cases]").await?;
    click_nav(wd, "[data-testid=nav-tasks]").await?;
    wd.wait_for("[data-testid=task-digest]", WAIT).await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=task-title]').length > 0",
        WAIT,
    )
    .await?;
    wd.wait_until(
        "Number(document.querySelector('[data-testid=tasks-overdue]').dataset.count) > 0",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await; // tags fade in
    wd.screenshot(&shots.join("06-task-digest.png")).await?;
    // C-21: the office's statistics count the four cases of 北新桥 (the three demo cases and 赵𪚥).
    click_nav(wd, "[data-testid=nav-stats]").await?;
    wd.wait_for("[data-testid=stats-view]", WAIT).await?;
    wd.wait_until(
        "Number((document.querySelector('[data-testid=stats-total]')||{dataset:{}}).dataset.count) === 4",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wd.screenshot(&shots.join("08-statistics.png")).await?;
    // The rule table and the holiday calendar in force (read-only for an officer).
    click_nav(wd, "[data-testid=nav-rules]").await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=rules-table] tbody tr').length > 40",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    wd.screenshot(&shots.join("16-rules.png")).await?;
    clerk_sees_a_held_write(wd, server, demo, shots).await?;
    println!("e2e: enrolled, logged in, created 赵𪚥 offline, synced, found in the master, added a check-in");
    Ok(())
}

/// Issue 9: another laptop of 北新桥街道司法所, registered as `laptop` and enrolled now, whose clock runs two
/// days ahead, sends `address` for the case: the server holds it in quarantine for the district.
async fn push_held_address(
    server: &TestServer,
    demo: &mut serde_json::Value,
    laptop: &str,
    case_id: &str,
    address: &str,
) {
    server.add_site_like(demo, "北新桥街道司法所", laptop);
    let site = Site::enrol(server, demo, laptop).await;
    let unit = jiceng_tests::raw::unit_of(demo, "北新桥街道司法所");
    let api = jiceng_tests::raw::Api::connect(server.enrolment_address()).await;
    let ahead = jiceng_tests::raw::chain_at(
        &site.site_id(),
        1,
        jiceng_core::op::GENESIS_HASH,
        jiceng_tests::raw::now_ms() + 2 * 86_400_000,
        &[(
            "corr_case",
            case_id,
            "address",
            serde_json::json!(address),
            unit.as_str(),
        )],
    );
    let (status, held) = api.push(&site.token(), &ahead).await;
    assert_eq!(
        (status, held["quarantined"].clone()),
        (200, serde_json::json!([1])),
        "{held}"
    );
}

/// Issue 9: another laptop of the office sends an address for 李四 from a clock two days ahead; the
/// server holds it, and the officer's desktop shows on 李四's record that the district has not accepted
/// it.
async fn clerk_sees_a_held_write(
    wd: &WebDriver,
    server: &TestServer,
    demo: &serde_json::Value,
    shots: &std::path::Path,
) -> Result<(), String> {
    let case_id: String = server
        .master_connection()
        .query_row("SELECT id FROM corr_case WHERE name = '李四'", [], |r| {
            r.get(0)
        })
        .map_err(|e| e.to_string())?;
    let mut demo = demo.clone();
    push_held_address(
        server,
        &mut demo,
        "北新桥街道司法所-外勤平板",
        &case_id,
        "东直门内大街5号",
    )
    .await;
    wd.click_css("[data-testid=sync-now]").await?;
    click_nav(wd, "[data-testid=nav-cases]").await?;
    open_case(wd, "李四").await?;
    show_held_notice(
        wd,
        "居住地址",
        &shots.join("27-clerk-quarantine-notice.png"),
    )
    .await?;
    Ok(())
}

/// On an open record, waits for the notice of a held write naming `field`, scrolls back to it (every
/// scrolled container to its top) and takes the screenshot.
async fn show_held_notice(
    wd: &WebDriver,
    field: &str,
    shot: &std::path::Path,
) -> Result<(), String> {
    wd.wait_for("[data-testid=quarantine-notice]", WAIT).await?;
    let notice = wd
        .script(
            "return document.querySelector('[data-testid=quarantine-notice]').textContent;",
            serde_json::json!([]),
        )
        .await?;
    let text = notice.as_str().unwrap_or("");
    if !(text.contains("未被区里接受") && text.contains(field)) {
        return Err(format!("the record's notice says {notice}"));
    }
    wd.script(
        "document.querySelectorAll('*').forEach(e => { if (e.scrollTop > 0) e.scrollTop = 0; });",
        serde_json::json!([]),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    wd.screenshot(shot).await
}

/// Clicks a menu item of the header once no toast covers it (Element Plus shows its messages at the
/// top centre, over the menu, and a click there lands on the message instead).
async fn click_nav(wd: &WebDriver, css: &str) -> Result<(), String> {
    wd.wait_until(
        "[...document.querySelectorAll('.el-message')].every(m => getComputedStyle(m).display === 'none' || m.offsetParent === null)",
        Duration::from_secs(10),
    )
    .await?;
    // A menu item off screen (a narrow window) is brought into view first, as a clerk scrolls to it.
    wd.script(
        "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView({block: 'nearest', inline: 'center'});",
        serde_json::json!([css]),
    )
    .await?;
    wd.click_css(css).await
}

/// Opens a screen from the top menu and waits for `shown`. A click that lands while a message box is
/// still closing (its overlay takes it) changes nothing: as a clerk would, click again (three tries,
/// 5 s each).
async fn open_screen(wd: &WebDriver, nav: &str, shown: &str) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..3 {
        click_nav(wd, nav).await?;
        match wd.wait_for(shown, Duration::from_secs(5)).await {
            Ok(_) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(format!("{nav} did not open {shown}: {last}"))
}

/// Opens a click-triggered dropdown and waits for `item` to show. A click that lands while the previous
/// dialog is still closing can be taken as a click outside, which closes the menu it opened: as a clerk
/// would, click again (three tries, 5 s each).
async fn open_dropdown(wd: &WebDriver, trigger: &str, item: &str) -> Result<(), String> {
    let shown = format!(
        "(() => {{ const e = document.querySelector('{item}'); return !!e && e.offsetParent !== null; }})()"
    );
    let mut last = String::new();
    for _ in 0..3 {
        click_nav(wd, trigger).await?;
        match wd.wait_until(&shown, Duration::from_secs(5)).await {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(format!("the menu of {trigger} did not open: {last}"))
}

/// Waits for the message saying where a saved file (`ext`) went; it stays 8 s over the menu, so it is
/// closed then, as a clerk would.
async fn wait_for_saved_file(wd: &WebDriver, ext: &str, timeout: Duration) -> Result<(), String> {
    wd.wait_until(
        &format!("[...document.querySelectorAll('.el-message')].some(m => m.textContent.includes('{ext}'))"),
        timeout,
    )
    .await?;
    wd.script(
        "document.querySelectorAll('.el-message__closeBtn').forEach(b => b.click());",
        serde_json::json!([]),
    )
    .await
    .map(|_| ())
}

/// Opens one of the district's screens under its 管理 menu and waits for `shown`.
async fn open_managed(wd: &WebDriver, item: &str, shown: &str) -> Result<(), String> {
    open_dropdown(wd, "[data-testid=nav-manage]", item).await?;
    wd.click_css(item).await?;
    wd.wait_for(shown, WAIT).await.map(|_| ())
}

/// Opens a case from the list by name.
async fn open_case(wd: &WebDriver, name: &str) -> Result<(), String> {
    wd.wait_for("[data-testid=case-row]", WAIT).await?;
    for row in wd.find_all("[data-testid=case-row]").await? {
        if wd.text(&row).await?.contains(name) {
            wd.click(&row).await?;
            wd.wait_until(
                &format!("(document.querySelector('[data-testid=detail-name]')||{{}}).textContent?.includes('{name}')"),
                WAIT,
            )
            .await?;
            return Ok(());
        }
    }
    Err(format!("no case row for {name}"))
}

/// Records one legal document through the documents section's dialog, dated today.
async fn add_document(
    wd: &WebDriver,
    doc_type: &str,
    time: Option<&str>,
    doc_no: &str,
) -> Result<(), String> {
    let before = wd.find_all("[data-testid=document-row-type]").await?.len();
    wd.click_css("[data-testid=document-add]").await?;
    wd.wait_for("[data-testid=document-dialog]", WAIT).await?;
    wd.click_css("[data-testid=document-type]").await?;
    wd.click_css(&format!("[data-testid=document-type-{doc_type}]"))
        .await?;
    if let Some(time) = time {
        wd.type_into("[data-testid=document-time] input", time)
            .await?;
        wd.press_enter("[data-testid=document-time] input").await?;
    }
    if !doc_no.is_empty() {
        wd.type_into("input[data-testid=document-no]", doc_no)
            .await?;
    }
    wd.click_css("[data-testid=document-save]").await?;
    wd.wait_until(
        &format!(
            "document.querySelectorAll('[data-testid=document-row-type]').length === {} && [...document.querySelectorAll('[data-testid=document-row-type]')].some(e => e.dataset.type === '{doc_type}')",
            before + 1
        ),
        WAIT,
    )
    .await
}

/// Moves the open case to `status` through the case form and waits for the label.
async fn set_status(wd: &WebDriver, status: &str, label: &str) -> Result<(), String> {
    wd.click_css("[data-testid=case-edit]").await?;
    wd.wait_for("[data-testid=case-form]", WAIT).await?;
    wd.click_css("[data-testid=case-form-status]").await?;
    wd.click_css(&format!("[data-testid=case-form-status-{status}]"))
        .await?;
    wd.click_css("[data-testid=case-form-save]").await?;
    wd.wait_until(
        &format!("(document.querySelector('[data-testid=detail-field-status]')||{{}}).textContent === '{label}'"),
        WAIT,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn community_clerk_keeps_the_residents_register_and_sees_no_corrections() {
    let (server, demo) = TestServer::start_demo_tls("e2e-clerk");
    let code = enrolment_code(&demo, "民安社区工作站");
    let desktop = start_desktop(&server, "clerk-desktop").await;
    let wd = &desktop.wd;
    let result = clerk_flow(wd, &server, &code).await;
    if result.is_err() {
        let _ = wd
            .screenshot(&std::env::temp_dir().join("jiceng-e2e-clerk-failure.png"))
            .await;
    }
    wd.quit().await;
    result.expect("clerk scenario");
}

async fn clerk_flow(wd: &WebDriver, server: &TestServer, code: &str) -> Result<(), String> {
    enrol_and_sign_in(wd, server, code, "clerk1").await?;
    // The clerk's home is the day's tasks.
    wd.wait_for("[data-testid=task-digest]", WAIT).await?;
    click_nav(wd, "[data-testid=nav-residents]").await?;
    wd.wait_for("[data-testid=resident-list]", WAIT).await?;
    // A clerk is never offered the corrections screens.
    if !wd.find_all("[data-testid=nav-cases]").await?.is_empty() {
        return Err("a community clerk sees the corrections menu".into());
    }
    // W-1: register a resident with a rare-character name and a legacy 15-digit ID number.
    wd.click_css("[data-testid=resident-new]").await?;
    wd.wait_for("[data-testid=resident-form]", WAIT).await?;
    wd.type_into("[data-testid=resident-form-name] input", "䶮𠀀婆")
        .await?;
    wd.type_into(
        "[data-testid=resident-form-idnumber] input",
        "110105491231002",
    )
    .await?;
    wd.type_into("input[data-testid=resident-form-building]", "3")
        .await?;
    wd.type_into("input[data-testid=resident-form-unit]", "2")
        .await?;
    wd.type_into("input[data-testid=resident-form-room]", "401")
        .await?;
    wd.click_css("[data-testid=resident-form-save]").await?;
    wd.wait_until(
        "[...document.querySelectorAll('[data-testid=resident-row-name]')].some(e => e.textContent.includes('䶮𠀀婆'))",
        WAIT,
    )
    .await?;
    wd.type_into("[data-testid=resident-search] input", "3-2-401")
        .await?;
    wd.wait_until(
        "Number(document.querySelector('[data-testid=resident-total]').dataset.total) === 1",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    wd.screenshot(&screenshots_dir().join("09-residents.png"))
        .await?;
    // W-2: a complaint is taken, routed to two departments with a lead, shows its L-15 deadline, is
    // resolved and followed up.
    click_nav(wd, "[data-testid=nav-appeals]").await?;
    wd.wait_for("[data-testid=appeal-list]", WAIT).await?;
    wd.click_css("[data-testid=appeal-new]").await?;
    wd.wait_for("[data-testid=appeal-form]", WAIT).await?;
    wd.type_into("[data-testid=appeal-form-name] input", "欧阳䶮")
        .await?;
    wd.type_into("[data-testid=appeal-form-subject] input", "3号楼前路灯不亮")
        .await?;
    wd.click_css("[data-testid=appeal-form-save]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=appeal-row-status]')||{dataset:{}}).dataset.status === 'registered'",
        WAIT,
    )
    .await?;
    let due = wd.wait_for("[data-testid=appeal-row-due]", WAIT).await?;
    if wd.text(&due).await?.len() != 10 {
        return Err("the appeal shows no deadline".into());
    }
    wd.click_css("[data-testid=appeal-open]").await?;
    wd.wait_for("[data-testid=appeal-step]", WAIT).await?;
    wd.click_css("[data-testid=appeal-dept-市政] .el-checkbox__label")
        .await?;
    wd.click_css("[data-testid=appeal-route]").await?;
    wd.wait_for("[data-testid=appeal-resolve]", WAIT).await?;
    wd.type_into("[data-testid=appeal-step-result] textarea", "已更换灯具")
        .await?;
    wd.click_css("[data-testid=appeal-resolve]").await?;
    wd.wait_for("[data-testid=appeal-follow-up]", WAIT).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wd.screenshot(&screenshots_dir().join("10-appeal.png"))
        .await?;
    wd.click_css("[data-testid=appeal-follow-up]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=appeal-row-status]')||{dataset:{}}).dataset.status === 'closed'",
        WAIT,
    )
    .await?;
    // W-3: a people's mediation case with two parties (one with a rare character).
    click_nav(wd, "[data-testid=nav-mediation]").await?;
    wd.wait_for("[data-testid=mediation-list]", WAIT).await?;
    wd.click_css("[data-testid=mediation-new]").await?;
    wd.wait_for("[data-testid=mediation-form]", WAIT).await?;
    wd.type_into("[data-testid=mediation-form-mediator] input", "王调解")
        .await?;
    wd.type_into(
        "[data-testid=mediation-form-summary] textarea",
        "楼上楼下噪音纠纷，双方同意调解",
    )
    .await?;
    for (n, name) in [(1, "张𠀀"), (2, "李邻居")] {
        wd.type_into(
            &format!("[data-testid=mediation-party-{n}] input[data-testid=mediation-party-name]"),
            name,
        )
        .await?;
    }
    wd.click_css("[data-testid=mediation-form-save]").await?;
    wd.wait_until(
        "[...document.querySelectorAll('[data-testid=mediation-row-parties]')].some(e => e.textContent.includes('张𠀀'))",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    wd.screenshot(&screenshots_dir().join("17-mediation.png"))
        .await?;
    // One person index: the resident registered above is found by a rare character of her name.
    click_nav(wd, "[data-testid=nav-people]").await?;
    wd.wait_for("[data-testid=people-view]", WAIT).await?;
    wd.type_into("[data-testid=people-search] input", "䶮")
        .await?;
    wd.wait_until(
        "[...document.querySelectorAll('[data-testid=people-row-name]')].some(e => e.textContent.includes('䶮𠀀婆'))",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    wd.screenshot(&screenshots_dir().join("18-people.png"))
        .await?;
    // The other screens of the workstation open on their lists.
    for (nav, view, shot) in [
        ("nav-volunteers", "volunteer-list", "19-volunteers.png"),
        ("nav-admission", "admission-list", "20-admission.png"),
        ("nav-funds", "fund-ledger", "21-funds.png"),
    ] {
        click_nav(wd, &format!("[data-testid={nav}]")).await?;
        wd.wait_for(&format!("[data-testid={view}]"), WAIT).await?;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        wd.screenshot(&screenshots_dir().join(shot)).await?;
    }
    // Issue 10 §3: the clerk backs the PC's data up from the settings.
    wd.click_css("[data-testid=open-settings]").await?;
    wd.wait_for("[data-testid=settings-dialog]", WAIT).await?;
    wd.click_css("[data-testid=backup-now]").await?;
    wd.wait_for("[data-testid=backup-row]", WAIT).await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    wd.screenshot(&screenshots_dir().join("28-backup.png"))
        .await?;
    // Issue 10 §7: with no network, the clerk exports the unsent records for the USB stick.
    wd.click_css("[data-testid=usb-export]").await?;
    let result = wd.wait_for("[data-testid=usb-result]", WAIT).await?;
    let said = wd.text(&result).await?;
    if !said.contains("基层通同步包") || !said.contains(".jcsync") {
        return Err(format!(
            "the export did not say where the bundle went: {said}"
        ));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    wd.screenshot(&screenshots_dir().join("29-usb-sync.png"))
        .await?;
    wd.click_css("[data-testid=settings-cancel]").await?;
    // Issue 11 §4: the clerk leaves the desk and locks the screen; a wrong password does not open it.
    wd.click_css("[data-testid=lock-now]").await?;
    wd.wait_for("[data-testid=screen-lock]", WAIT).await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    wd.screenshot(&screenshots_dir().join("32-screen-lock.png"))
        .await?;
    // (Element Plus puts the test id of a password field on the <input> itself.)
    wd.type_into("[data-testid=lock-password]", "wrong-pass-1")
        .await?;
    wd.click_css("[data-testid=lock-unlock]").await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    if wd.find_all("[data-testid=screen-lock]").await?.is_empty() {
        return Err("a wrong password opened the locked screen".to_string());
    }
    wd.type_into("[data-testid=lock-password]", "jiceng-demo")
        .await?;
    wd.click_css("[data-testid=lock-unlock]").await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=screen-lock]').length === 0",
        WAIT,
    )
    .await?;
    // Issue 11 §3: the district revokes this PC (lost); its next sync says so and keeps its work.
    // (The earlier messages fade first, so that the screenshot shows this one.)
    tokio::time::sleep(Duration::from_millis(6500)).await;
    let sites: serde_json::Value =
        serde_json::from_str(&server.cli(&["admin", "site-list"])).map_err(|e| e.to_string())?;
    let own = sites
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == "民安社区工作站"))
        .and_then(|s| s["id"].as_str())
        .ok_or("the workstation is not in the site list")?
        .to_string();
    server.cli(&[
        "admin",
        "site-revoke",
        "--site",
        &own,
        "--by",
        "区司法局管理员",
        "--reason",
        "笔记本丢失",
    ]);
    wd.click_css("[data-testid=sync-now]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=status-error]')||{}).textContent?.includes('已被区司法局停用')",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wd.screenshot(&screenshots_dir().join("30-revoked-laptop.png"))
        .await?;
    println!("e2e: the clerk registered 䶮𠀀婆 (15-digit ID upgraded) and found her by address; no corrections menu; a complaint went from intake to follow-up; a mediation case; the person index found her");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn district_admin_decides_a_conflict_and_approves_a_transfer() {
    let (mut server, mut demo) = TestServer::start_demo_tls("e2e-district");
    server.add_site_like(&mut demo, "北新桥街道司法所", "北新桥街道司法所-笔记本2");
    // Two laptops of 北新桥 edit 李四's address concurrently (D-3), and the office applies to move the
    // case to 和平里 (L-6); both reach the master before the district's desktop starts.
    let laptop_a = Site::enrol(&server, &demo, "北新桥街道司法所").await;
    let laptop_b = Site::enrol(&server, &demo, "北新桥街道司法所-笔记本2").await;
    let officer_a = laptop_a.login("officer1");
    let officer_b = laptop_b.login("officer1");
    let case = laptop_a
        .lock()
        .list_cases(&officer_a, &Default::default())
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.name == "李四")
        .unwrap();
    for (site, user, address) in [
        (&laptop_a, &officer_a, "北新桥三条8号"),
        (&laptop_b, &officer_b, "北新桥头条12号"),
    ] {
        site.lock()
            .save_case(
                user,
                jiceng_core::model::CaseInput {
                    address: Some(address.into()),
                    ..jiceng_core::model::CaseInput::edit_of(&case)
                },
            )
            .unwrap();
    }
    let move_on = jiceng_tests::raw::shanghai_day(40);
    laptop_a
        .lock()
        .apply_transfer(
            &officer_a,
            jiceng_core::transfer::TransferInput {
                case_id: case.id.clone(),
                destination: "和平里街道青年湖小区".into(),
                reason: "随家人搬迁".into(),
                move_on,
            },
        )
        .unwrap();
    laptop_a.sync().await.unwrap();
    laptop_b.sync().await.unwrap();
    // Issue 9: a third laptop of the office whose clock runs two days ahead sends an address for 李四:
    // the server holds it in quarantine for the district.
    push_held_address(
        &server,
        &mut demo,
        "北新桥街道司法所-笔记本3",
        &case.id,
        "安定门外大街1号",
    )
    .await;
    let receiving: String = server
        .master_connection()
        .query_row(
            "SELECT id FROM org_unit WHERE name = '和平里街道'",
            [],
            |r| r.get(0),
        )
        .unwrap();

    let code = enrolment_code(&demo, "区司法局");
    let desktop = start_desktop(&server, "district-desktop").await;
    let wd = &desktop.wd;
    let result = district_flow(wd, &mut server, &code, &receiving).await;
    if result.is_err() {
        let _ = wd
            .screenshot(&std::env::temp_dir().join("jiceng-e2e-district-failure.png"))
            .await;
    }
    wd.quit().await;
    result.expect("district scenario");
    // The decision and the approval reached the master.
    let master = server.master_connection();
    let (address, transfer_status): (String, String) = master
        .query_row(
            "SELECT c.address, t.status FROM corr_case c JOIN corr_transfer t ON t.case_id = c.id WHERE c.id = ?1",
            [&case.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(transfer_status, "in_transit");
    // The district released the held address (stamped two days ahead, it wins the field).
    assert_eq!(address, "安定门外大街1号");
    let decided: String = master
        .query_row("SELECT status FROM quarantine", [], |r| r.get(0))
        .unwrap();
    assert_eq!(decided, "released");
}

async fn district_flow(
    wd: &WebDriver,
    server: &mut TestServer,
    code: &str,
    receiving: &str,
) -> Result<(), String> {
    enrol_and_sign_in(wd, server, code, "admin").await?;
    wd.wait_for("[data-testid=main-view]", WAIT).await?;

    // D-3: the open conflict on 李四's address; the district keeps the other value.
    open_managed(
        wd,
        "[data-testid=nav-conflicts]",
        "[data-testid=conflict-review]",
    )
    .await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=conflict-take-other]').length === 1",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    wd.screenshot(&screenshots_dir().join("22-conflict-review.png"))
        .await?;
    let other = wd
        .script(
            "return document.querySelector('[data-testid=conflict-other]').textContent;",
            serde_json::json!([]),
        )
        .await?;
    // The two values name the laptops that wrote them, not their ids.
    let writers = wd
        .script(
            "return [...document.querySelectorAll('[data-testid=conflict-winner-site], [data-testid=conflict-other-site]')].map(e => e.textContent.trim()).sort().join('|');",
            serde_json::json!([]),
        )
        .await?;
    if writers.as_str() != Some("北新桥街道司法所|北新桥街道司法所-笔记本2") {
        return Err(format!("conflict review names the sites {writers}"));
    }
    wd.click_css("[data-testid=conflict-take-other]").await?;
    wd.wait_for("[data-testid=confirm-dialog]", WAIT).await?;
    wd.click_css("[data-testid=confirm-ok]").await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=conflict-take-other]').length === 0",
        WAIT,
    )
    .await?;

    // L-6: the county approves the transfer to 和平里 from the case screen.
    click_nav(wd, "[data-testid=nav-cases]").await?;
    open_case(wd, "李四").await?;
    wd.wait_until(
        &format!(
            "(document.querySelector('[data-testid=detail-field-address]')||{{}}).textContent === {}",
            other
        ),
        WAIT,
    )
    .await?;
    wd.click_css("[data-testid=transfer-approve]").await?;
    wd.wait_for("[data-testid=transfer-step-dialog]", WAIT)
        .await?;
    wd.click_css("[data-testid=transfer-to]").await?;
    wd.click_css(&format!("[data-testid=transfer-to-{receiving}]"))
        .await?;
    wd.type_into("textarea[data-testid=transfer-note]", "同意变更执行地")
        .await?;
    wd.click_css("[data-testid=transfer-step-save]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=transfer-status]')||{dataset:{}}).dataset.status === 'in_transit'",
        WAIT,
    )
    .await?;
    wd.click_css("[data-testid=sync-now]").await?;
    wd.wait_until(
        "Number(document.querySelector('[data-testid=status-pending]').dataset.pending) === 0",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    wd.script(
        "document.querySelector('[data-testid=transfer-section]').scrollIntoView();",
        serde_json::json!([]),
    )
    .await?;
    wd.screenshot(&screenshots_dir().join("23-transfer-approved.png"))
        .await?;
    // Issue 9: the record says which write the district has not accepted.
    show_held_notice(
        wd,
        "居住地址",
        &screenshots_dir().join("25-quarantine-notice.png"),
    )
    .await?;
    // The district releases it from the review beside the conflict review.
    open_managed(
        wd,
        "[data-testid=nav-conflicts]",
        "[data-testid=quarantine-review]",
    )
    .await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=quarantine-release]').length === 1",
        WAIT,
    )
    .await?;
    wd.script(
        "document.querySelector('[data-testid=quarantine-review]').scrollIntoView();",
        serde_json::json!([]),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    wd.screenshot(&screenshots_dir().join("26-quarantine-review.png"))
        .await?;
    wd.click_css("[data-testid=quarantine-release]").await?;
    wd.wait_for("[data-testid=confirm-dialog]", WAIT).await?;
    wd.click_css("[data-testid=confirm-ok]").await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=quarantine-release]').length === 0",
        WAIT,
    )
    .await?;
    // The district's community screens sit under one menu, so that every screen fits the window.
    open_dropdown(
        wd,
        "[data-testid=nav-community]",
        "[data-testid=nav-residents]",
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    wd.screenshot(&screenshots_dir().join("24-district-community-menu.png"))
        .await?;
    wd.click_css("[data-testid=nav-residents]").await?;
    wd.wait_for("[data-testid=resident-list]", WAIT).await?;
    // Issue 11 §3: a township's laptop is lost; the district revokes it from the 站点 screen.
    wd.script("document.body.click();", serde_json::json!([]))
        .await?;
    // Issue 13 §3: the sites are a tab of 系统管理.
    open_managed(wd, "[data-testid=nav-sites]", "[data-testid=admin-view]").await?;
    wd.click_css("#tab-sites").await?;
    wd.wait_for("[data-testid=site-revoke]", WAIT).await?;
    wd.script(
        "const row = [...document.querySelectorAll('[data-testid=sites-table] tr')].find(r => (r.querySelector('[data-testid=site-name]')||{}).textContent === '龙潭乡司法所'); row.querySelector('[data-testid=site-revoke]').click();",
        serde_json::json!([]),
    )
    .await?;
    wd.wait_for(".el-message-box__input input", WAIT).await?;
    wd.type_into(".el-message-box__input input", "笔记本丢失")
        .await?;
    wd.click_css(".el-message-box__btns .el-button--primary")
        .await?;
    wd.wait_for("[data-testid=site-revoked]", WAIT).await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    wd.screenshot(&screenshots_dir().join("31-sites-revoked.png"))
        .await?;
    // Issue 13 §1: the server closes today on demand (it does each night at 02:00); the district's
    // statistics show the closed day beside the live figures, with each site's day.
    let today = jiceng_core::shanghai::today(jiceng_tests::raw::now_ms())
        .format("%Y-%m-%d")
        .to_string();
    let dir = server.consolidation_dir();
    server.cli(&[
        "consolidate",
        "--day",
        &today,
        "--consolidation-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    open_screen(wd, "[data-testid=nav-stats]", "[data-testid=stats-view]").await?;
    wd.wait_for("[data-testid=consolidation-title]", WAIT)
        .await?;
    wd.wait_until(
        &format!(
            "document.querySelector('[data-testid=consolidation-title]').textContent.includes('{today} 24:00')"
        ),
        WAIT,
    )
    .await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=consolidation-sites] tbody tr').length >= 8",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    wd.screenshot(&screenshots_dir().join("34-nightly-consolidation.png"))
        .await?;
    println!("e2e: the district decided a conflict and approved a transfer from the desktop, and opened the residents' register from the 社区事务 menu");
    Ok(())
}

/// Issue 13, done when: the district's day at its desktop on the demo month. It opens last night's
/// record (closed by the server, as its 02:00 job does), the dashboards, drills down from the overdue
/// chart to a case, adds a site (with its one-time code) and a user, and exports the monthly C-21
/// workbook, which the test opens and reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn district_day_last_nights_record_dashboards_drill_down_administration_and_export() {
    let (server, demo) = TestServer::start_demo_month("e2e-day");
    let server = server.over_tls();
    let now = jiceng_tests::raw::now_ms();
    let yesterday = jiceng_core::consolidation::last_closed_day(now)
        .format("%Y-%m-%d")
        .to_string();
    let dir = server.consolidation_dir();
    server.cli(&[
        "consolidate",
        "--day",
        &yesterday,
        "--consolidation-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    let code = enrolment_code(&demo, "区司法局");
    let desktop = start_desktop(&server, "district-day").await;
    let wd = &desktop.wd;
    let result = district_day(wd, &server, &code, &yesterday).await;
    if result.is_err() {
        let _ = wd
            .screenshot(&std::env::temp_dir().join("jiceng-e2e-day-failure.png"))
            .await;
    }
    wd.quit().await;
    let (total, drilled) = result.expect("district day scenario");

    // The site and the user the district added reached the master, and its audit names the admin.
    let master = server.master();
    assert!(master
        .sites()
        .iter()
        .any(|(_, name, _, _)| name == "北新桥街道司法所-𠮷号笔记本"));
    assert!(master
        .table("app_user")
        .iter()
        .any(|u| u["username"] == "clerk_e2e" && u["display_name"] == "𠮷工作人员"));
    let audit = server.cli(&["admin", "site-list"]);
    assert!(audit.contains("北新桥街道司法所-𠮷号笔记本"));

    // The monthly workbook the desktop exported: its sheets, its title, every township in the org
    // tree's order, the total the screen showed.
    let workbook = find_file(
        &server.dir.join("district-day"),
        "社区矫正统计报表_",
        "xlsx",
    )
    .or_else(|| {
        find_file(
            &server.dir.join("district-day-home"),
            "社区矫正统计报表_",
            "xlsx",
        )
    })
    .expect("the exported workbook");
    let parts = xlsx_parts(&std::fs::read(&workbook).expect("read the workbook"));
    let names = &parts["xl/workbook.xml"];
    for sheet in [
        "表一 矫正类别",
        "表二 矫正状态",
        "表三 管理等级",
        "表四 变动情况",
        "合规率",
    ] {
        assert!(
            names.contains(&format!("<sheet name=\"{sheet}\"")),
            "{sheet} in {names}"
        );
    }
    let strings = &parts["xl/sharedStrings.xml"];
    assert!(strings.contains("示范区"), "the unit in the title");
    let at = |name: &str| {
        strings
            .find(name)
            .unwrap_or_else(|| panic!("{name} in the workbook"))
    };
    assert!(
        at("北新桥街道") < at("和平里街道"),
        "townships in the org tree's order"
    );
    let sheet1 = &parts["xl/worksheets/sheet1.xml"];
    assert!(
        sheet1.contains(&format!("<v>{total}</v>")),
        "the district's total {total} in 表一"
    );

    // The dashboards on A4, as the engine prints them.
    let pdf = find_file(&server.dir.join("district-day"), "监管看板_", "pdf")
        .or_else(|| find_file(&server.dir.join("district-day-home"), "监管看板_", "pdf"))
        .expect("the dashboards' PDF");
    check_a4_print(&pdf, &drilled);
}

/// Issue 13 §2: the printed dashboards are A4 pages, hold every chart's title and the open list
/// (its first case by name), and none of the app's chrome; page 1 and the last page are saved as
/// screenshots to look at.
fn check_a4_print(pdf: &std::path::Path, drilled_case: &str) {
    let run = |program: &str, args: &[&str]| {
        let out = std::process::Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program} (poppler-utils): {e}"));
        assert!(out.status.success(), "{program} {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let file = pdf.to_string_lossy();
    let info = run("pdfinfo", &[&file]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("page count in {info}"));
    assert!((1..=12).contains(&pages), "{pages} pages: {info}");
    // A4 is 595.28 x 841.89 pt; poppler rounds to "595.276 x 841.89 pts (A4)".
    let size = info
        .lines()
        .find(|l| l.starts_with("Page size:"))
        .unwrap_or_default();
    assert!(size.contains("(A4)"), "A4 pages: {size}");
    // The engine embeds the 生僻字 fallback font whole (22 MB); the desktop cuts it to the glyphs used.
    let bytes = std::fs::metadata(pdf).expect("the PDF").len();
    assert!(bytes < 3_000_000, "{bytes} bytes for {pages} pages");
    // Page 1 and the last page as screenshots, to look at.
    for (page, shot) in [
        (1, "43-dashboard-a4-page1"),
        (pages, "44-dashboard-a4-last-page"),
    ] {
        let page = page.to_string();
        let out = screenshots_dir().join(shot);
        let out = out.to_string_lossy();
        let args = [
            "-png",
            "-r",
            "70",
            "-f",
            &page,
            "-l",
            &page,
            "-singlefile",
            &file,
            &out,
        ];
        run("pdftoppm", &args);
    }
    // The CJK font's ToUnicode maps some ideographs to Kangxi radicals (⾄ for 至): NFKC folds them.
    let _ = std::fs::copy(pdf, std::env::temp_dir().join("jiceng-e2e-dashboard.pdf"));
    let nfkc =
        |s: &str| -> String { unicode_normalization::UnicodeNormalization::nfkc(s).collect() };
    let text = nfkc(&run("pdftotext", &[&file, "-"]));
    for title in [
        "监管看板",
        "各司法所在矫对象",
        "各矫正专干负责对象",
        "各单位超期事项",
        "超期事项（按规则）",
        "月度合规率（C-10、C-11、L-3）",
        "诉求办理期限（W-2）",
        "诉求回访满意度（W-2）",
        "人民调解结果（W-3）",
        "各站点同步状况",
        drilled_case,
    ] {
        assert!(
            contains_cjk_loosely(&text, &nfkc(title)),
            "{title} on the printed pages:\n{text}"
        );
    }
    for chrome in [
        "另存为 PDF",
        "打印（A4）",
        "导出 Excel",
        "今日待办",
        "统计报表",
    ] {
        assert!(
            !contains_cjk_loosely(&text, &nfkc(chrome)),
            "{chrome} is not printed:\n{text}"
        );
    }
}

/// `needle` in `text`, where a character of the CJK Radicals Supplement in the text (⺠, which the
/// PDF's font maps for 民 and NFKC does not fold) stands for any ideograph.
fn contains_cjk_loosely(text: &str, needle: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let needle: Vec<char> = needle.chars().collect();
    let same = |t: char, n: char| {
        t == n || (('\u{2E80}'..='\u{2EFF}').contains(&t) && ('\u{4E00}'..='\u{9FFF}').contains(&n))
    };
    !needle.is_empty()
        && text
            .windows(needle.len())
            .any(|w| w.iter().zip(&needle).all(|(&t, &n)| same(t, n)))
}

fn find_file(dir: &std::path::Path, prefix: &str, ext: &str) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, prefix, ext) {
                return Some(found);
            }
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(prefix) && n.ends_with(&format!(".{ext}")))
        {
            return Some(path);
        }
    }
    None
}

fn xlsx_parts(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut parts = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("a part");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).expect("a text part");
        parts.insert(file.name().expect("a name").to_string(), text);
    }
    parts
}

/// The district's day; returns the district's C-21 total the statistics screen showed.
async fn district_day(
    wd: &WebDriver,
    server: &TestServer,
    code: &str,
    yesterday: &str,
) -> Result<(u64, String), String> {
    enrol_and_sign_in(wd, server, code, "admin").await?;
    wd.wait_for("[data-testid=main-view]", WAIT).await?;
    // The district's whole menu fits the 1280-pixel window: nothing to scroll to.
    let overflow = wd
        .script(
            "const n = document.querySelector('.nav'); return n.scrollWidth - n.clientWidth;",
            serde_json::json!([]),
        )
        .await?;
    if overflow.as_i64().unwrap_or(1) > 0 {
        return Err(format!("the district's menu overflows by {overflow} px"));
    }

    // 1. Last night's record beside the live figures.
    open_screen(wd, "[data-testid=nav-stats]", "[data-testid=stats-view]").await?;
    wd.wait_until(
        &format!(
            "(document.querySelector('[data-testid=consolidation-title]')||{{}}).textContent?.includes('{yesterday} 24:00')"
        ),
        WAIT,
    )
    .await?;
    wd.wait_until(
        "Number(document.querySelector('[data-testid=stats-total]')?.dataset.count) > 0",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    wd.screenshot(&screenshots_dir().join("35-last-nights-record.png"))
        .await?;
    // The district closes yesterday again from its screen (the server keeps the earlier closing).
    wd.click_css("[data-testid=consolidation-close]").await?;
    wd.wait_until(
        &format!(
            "[...document.querySelectorAll('.el-message')].some(m => m.textContent.includes('{yesterday}'))"
        ),
        WAIT,
    )
    .await?;
    let total: u64 = wd
        .script(
            "return Number(document.querySelector('[data-testid=stats-total]').dataset.count);",
            serde_json::json!([]),
        )
        .await?
        .as_u64()
        .ok_or("the statistics total")?;
    // D-4: the monthly workbook (read back after the scenario).
    wd.click_css("[data-testid=stats-export]").await?;
    wait_for_saved_file(wd, ".xlsx", WAIT).await?;

    // 2. The dashboards; the overdue chart drills down to its cases, and one opens.
    open_screen(
        wd,
        "[data-testid=nav-dashboard]",
        "[data-testid=dashboard-view]",
    )
    .await?;
    wd.wait_for("[data-testid=chart-overdue-office] svg", WAIT)
        .await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid^=bucket-overdue-office-]').length > 0",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wd.screenshot(&screenshots_dir().join("36-dashboard.png"))
        .await?;
    // The office with the most overdue clocks.
    wd.script(
        "const tags = [...document.querySelectorAll('[data-testid^=bucket-overdue-office-]')]; \
         tags.sort((a, b) => Number(b.dataset.count ?? 0) - Number(a.dataset.count ?? 0)); tags[0].click();",
        serde_json::json!([]),
    )
    .await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=drill-row][data-kind=case]').length > 0",
        WAIT,
    )
    .await?;
    wd.script(
        "document.querySelector('[data-testid=drill-table]').scrollIntoView({block: 'end'});",
        serde_json::json!([]),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    wd.screenshot(&screenshots_dir().join("37-dashboard-drill-down.png"))
        .await?;
    // The charts and the open list as an A4 PDF, printed by the engine (read after the scenario).
    let drilled: String = wd
        .script(
            "return document.querySelector('[data-testid=drill-row][data-kind=case]').textContent.trim();",
            serde_json::json!([]),
        )
        .await?
        .as_str()
        .ok_or("the first drilled case")?
        .to_string();
    wd.click_css("[data-testid=dashboard-pdf]").await?;
    wait_for_saved_file(wd, ".pdf", Duration::from_secs(90)).await?;
    wd.script(
        "document.querySelector('[data-testid=drill-row][data-kind=case]').click();",
        serde_json::json!([]),
    )
    .await?;
    let name = drilled.clone();
    wd.wait_until(
        &format!("(document.querySelector('[data-testid=detail-name]')||{{}}).textContent?.includes('{name}')"),
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    wd.screenshot(&screenshots_dir().join("38-overdue-case.png"))
        .await?;

    // 3. D-2: a site for 北新桥街道's new laptop, with its one-time code; a clerk for 民安社区.
    open_managed(wd, "[data-testid=nav-sites]", "[data-testid=org-tree]").await?;
    wd.wait_for("[data-testid='org-node-北新桥街道']", WAIT)
        .await?;
    wd.script(
        "document.querySelector(\"[data-testid='org-node-北新桥街道'] [data-testid=org-add-site]\").click();",
        serde_json::json!([]),
    )
    .await?;
    wd.wait_for("[data-testid=org-name] input", WAIT).await?;
    wd.type_into(
        "[data-testid=org-name] input",
        "北新桥街道司法所-𠮷号笔记本",
    )
    .await?;
    wd.click_css("[data-testid=org-save]").await?;
    wd.wait_until(
        "(document.querySelector('[data-testid=enrolment-code]')||{}).textContent?.trim().length >= 8",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    wd.screenshot(&screenshots_dir().join("39-admin-site-code.png"))
        .await?;
    wd.click_css("[data-testid=enrolment-code-close]").await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    wd.click_css("#tab-users").await?;
    wd.wait_for("[data-testid=user-add]", WAIT).await?;
    wd.click_css("[data-testid=user-add]").await?;
    wd.wait_for("[data-testid=user-form-name] input", WAIT)
        .await?;
    wd.type_into("[data-testid=user-form-name] input", "𠮷工作人员")
        .await?;
    wd.type_into("[data-testid=user-form-username] input", "clerk_e2e")
        .await?;
    // The role stays 社区工作站 (the default); its unit: 民安社区.
    wd.click_css("[data-testid=user-form-unit] .el-select__wrapper")
        .await?;
    wd.wait_until(
        "[...document.querySelectorAll('.el-select-dropdown__item')].some(o => o.textContent.includes('民安社区') && o.offsetParent !== null)",
        WAIT,
    )
    .await?;
    wd.script(
        "[...document.querySelectorAll('.el-select-dropdown__item')].find(o => o.textContent.includes('民安社区') && o.offsetParent !== null).click();",
        serde_json::json!([]),
    )
    .await?;
    wd.type_into("[data-testid=user-form-password] input", "Clerk-e2e-2026")
        .await?;
    wd.click_css("[data-testid=user-form-save]").await?;
    wd.wait_until(
        "[...document.querySelectorAll('[data-testid=user-name]')].some(n => n.textContent === '𠮷工作人员')",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    wd.screenshot(&screenshots_dir().join("40-admin-users.png"))
        .await?;
    wd.click_css("#tab-audit").await?;
    wd.wait_until(
        "document.querySelectorAll('[data-testid=audit-action]').length >= 2",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    wd.screenshot(&screenshots_dir().join("41-admin-audit.png"))
        .await?;
    println!("e2e: the district's day: last night's record, the dashboards and a drill-down to an overdue case, a site and a user added, the monthly workbook exported");
    Ok((total, drilled))
}

/// Issue 14 §1: the .deb installed on this machine (`apt-get install ./…deb`) starts from its own path
/// under Xvfb at the enrolment screen, enrols, and keeps its data where the OS keeps a user's
/// (XDG_DATA_HOME/cn.jiceng.desktop). scripts/test.sh installs the package, runs this with
/// `--ignored` and JICENG_INSTALLED_APP, and removes the package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by scripts/test.sh after it installs the .deb"]
async fn the_installed_package_starts_at_the_enrolment_screen() {
    let app = PathBuf::from(
        std::env::var("JICENG_INSTALLED_APP")
            .expect("JICENG_INSTALLED_APP: the installed program, e.g. /usr/bin/jiceng-desktop"),
    );
    assert!(app.exists(), "{} is not installed", app.display());
    let (server, demo) = TestServer::start_demo_tls("e2e-package");
    let code = enrolment_code(&demo, "北新桥街道司法所");
    let desktop = start_app(&server, "installed", &app, false).await;
    let wd = &desktop.wd;
    let result = async {
        wd.wait_for("[data-testid=enrol-view]", WAIT).await?;
        tokio::time::sleep(Duration::from_millis(800)).await;
        wd.screenshot(&screenshots_dir().join("42-installed-package.png"))
            .await?;
        wd.type_into(
            "[data-testid=enrol-server] input",
            &server.enrolment_address(),
        )
        .await?;
        wd.type_into("[data-testid=enrol-code] input", &code)
            .await?;
        wd.click_css("[data-testid=enrol-submit]").await?;
        wd.wait_for("[data-testid=login-view]", WAIT).await
    }
    .await;
    wd.quit().await;
    result.expect("the installed app enrols");
    let store_dir = server.dir.join("installed-xdg").join("cn.jiceng.desktop");
    assert!(
        std::fs::read_dir(&store_dir).is_ok_and(|mut d| d.next().is_some()),
        "the installed app keeps its data in the user's data directory ({})",
        store_dir.display()
    );
}

/// Enrols the desktop at its first screen with `code` and signs `username` in (the demo password).
async fn enrol_and_sign_in(
    wd: &WebDriver,
    server: &TestServer,
    code: &str,
    username: &str,
) -> Result<(), String> {
    wd.wait_for("[data-testid=enrol-view]", WAIT).await?;
    wd.type_into(
        "[data-testid=enrol-server] input",
        &server.enrolment_address(),
    )
    .await?;
    wd.type_into("[data-testid=enrol-code] input", code).await?;
    wd.click_css("[data-testid=enrol-submit]").await?;
    wd.wait_for("[data-testid=login-view]", WAIT).await?;
    wd.type_into("[data-testid=login-username] input", username)
        .await?;
    wd.type_into("[data-testid=login-password] input", "jiceng-demo")
        .await?;
    wd.click_css("[data-testid=login-submit]").await
}
