//! W-2 appeals and complaints with the L-14 / L-15 clocks, on a community workstation's store.

mod common_setup;

use chrono::NaiveDate;
use jiceng_core::model::{AppealAction, AppealClass, AppealInput, AppealStatus, ResidentQuery};
use jiceng_core::store::appeals::handling_due;

fn engine() -> jiceng_core::deadlines::Engine {
    jiceng_core::deadlines::Engine::official().unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn input(class: AppealClass, received_on: &str) -> AppealInput {
    AppealInput {
        channel: "phone".into(),
        class,
        category: "municipal".into(),
        petitioner_name: "欧阳䶮".into(),
        petitioner_phone: "13800138000".into(),
        subject: "小区路灯不亮".into(),
        content: "3号楼前路灯损坏已一周".into(),
        received_on: Some(received_on.into()),
        petitioner_id_number: String::new(),
        whistleblower: false,
        complained_department: String::new(),
    }
}

#[test]
fn l15_hotline_clocks_in_working_days_across_national_day() {
    // A complaint received 2026-09-24: the 13 working days skip 9-25..27 and 10-01..07 and count the
    // make-up Saturday 10-10.
    let due = handling_due(
        &engine(),
        AppealClass::HotlineComplaint,
        d("2026-09-24"),
        false,
    )
    .unwrap();
    assert_eq!(due, d("2026-10-20"), "13 working days after 9-24");
    assert_eq!(
        handling_due(
            &engine(),
            AppealClass::HotlineEnquiry,
            d("2026-09-30"),
            false
        )
        .unwrap(),
        d("2026-10-10")
    );
    assert_eq!(
        handling_due(
            &engine(),
            AppealClass::HotlineUrgent,
            d("2026-10-02"),
            false
        )
        .unwrap(),
        d("2026-10-02")
    );
}

#[test]
fn l14_petition_sixty_days_plus_a_thirty_day_extension() {
    let base = handling_due(&engine(), AppealClass::Petition, d("2026-03-02"), false).unwrap();
    assert_eq!(
        base,
        d("2026-05-06"),
        "60 days end 5-01, a holiday until 5-05: moved to 5-06"
    );
    let extended = handling_due(&engine(), AppealClass::Petition, d("2026-03-02"), true).unwrap();
    assert!(extended > base && (extended - base).num_days() >= 30);
}

#[test]
fn w2_intake_route_with_a_lead_department_resolve_and_follow_up() {
    let (mut store, clerk) = common_setup::community_store("ws-1");
    let appeal = store
        .register_appeal(&clerk, input(AppealClass::HotlineComplaint, "2026-11-02"))
        .unwrap();
    assert_eq!(appeal.status, AppealStatus::Registered);
    assert!(
        appeal.overdue,
        "13 working days from 11-02 have passed by the time this test runs"
    );
    // Several departments need a lead among them (W-2).
    let err = store
        .act_on_appeal(
            &clerk,
            &appeal.id,
            AppealAction::Route {
                departments: vec!["市政".into(), "房管".into()],
                lead_department: "环保".into(),
            },
        )
        .unwrap_err();
    assert!(err.message_zh().contains("牵头"));
    let routed = store
        .act_on_appeal(
            &clerk,
            &appeal.id,
            AppealAction::Route {
                departments: vec!["市政".into(), "房管".into()],
                lead_department: "市政".into(),
            },
        )
        .unwrap();
    assert_eq!(
        (routed.status, routed.lead_department.as_str()),
        (AppealStatus::Routed, "市政")
    );
    let reminded = store
        .act_on_appeal(&clerk, &appeal.id, AppealAction::Remind)
        .unwrap();
    assert_eq!(reminded.reminders, 1, "催办 after the deadline (L-15)");
    assert!(
        store
            .act_on_appeal(
                &clerk,
                &appeal.id,
                AppealAction::FollowUp {
                    satisfaction: "satisfied".into()
                }
            )
            .is_err(),
        "no follow-up before it is resolved"
    );
    store
        .act_on_appeal(
            &clerk,
            &appeal.id,
            AppealAction::Resolve {
                result: "已更换灯具".into(),
            },
        )
        .unwrap();
    // The follow-up call is the clerk's next task (L-15), then the appeal closes.
    let digest = store.task_digest(&clerk, None).unwrap();
    assert!(digest
        .tasks
        .iter()
        .any(|t| t.rule_id == "L-15.follow_up" && t.subject_kind == "appeal"));
    let closed = store
        .act_on_appeal(
            &clerk,
            &appeal.id,
            AppealAction::FollowUp {
                satisfaction: "satisfied".into(),
            },
        )
        .unwrap();
    assert_eq!(closed.status, AppealStatus::Closed);
    assert!(store.task_digest(&clerk, None).unwrap().tasks.is_empty());
}

#[test]
fn w2_petitions_extend_once_and_the_list_puts_open_appeals_first_by_deadline() {
    let (mut store, clerk) = common_setup::community_store("ws-1");
    let petition = store
        .register_appeal(&clerk, input(AppealClass::Petition, "2026-11-20"))
        .unwrap();
    let enquiry = store
        .register_appeal(&clerk, input(AppealClass::HotlineEnquiry, "2026-11-20"))
        .unwrap();
    let extended = store
        .act_on_appeal(&clerk, &petition.id, AppealAction::Extend)
        .unwrap();
    assert!(extended.extended && extended.due_on > petition.due_on);
    assert!(
        store
            .act_on_appeal(&clerk, &petition.id, AppealAction::Extend)
            .is_err(),
        "only once"
    );
    assert!(
        store
            .act_on_appeal(&clerk, &enquiry.id, AppealAction::Extend)
            .is_err(),
        "hotline items do not extend"
    );
    let list = store
        .list_appeals(
            &clerk,
            &ResidentQuery {
                page: 1,
                page_size: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(list.items[0].id, enquiry.id, "the sooner deadline first");
    let by_initials = store
        .list_appeals(
            &clerk,
            &ResidentQuery {
                text: Some("oy".into()),
                page: 1,
                page_size: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(by_initials.total, 2);
    // Bad intake is refused with a reason.
    let mut bad = input(AppealClass::Petition, "2999-01-01");
    assert!(store
        .register_appeal(&clerk, bad.clone())
        .unwrap_err()
        .message_zh()
        .contains("日期"));
    bad.received_on = None;
    bad.category = "unknown".into();
    assert!(store
        .register_appeal(&clerk, bad)
        .unwrap_err()
        .message_zh()
        .contains("类别"));
}

/// Issue 11 §6 / W-2: opening a whistle-blower's appeal is logged as an operation and shown in the
/// appeal's history; an ordinary appeal's reads are not.
#[test]
fn w2_reads_of_a_whistleblowers_appeal_are_logged_and_shown() {
    let (mut store, clerk) = common_setup::community_store("ws-1");
    let mut protected = input(AppealClass::Petition, "2026-11-20");
    protected.whistleblower = true;
    protected.complained_department = "城管执法队".into();
    let protected = store.register_appeal(&clerk, protected).unwrap();
    let plain = store
        .register_appeal(&clerk, input(AppealClass::Petition, "2026-11-20"))
        .unwrap();
    let before = store.unacked_count().unwrap();
    let first = store.read_appeal(&clerk, &protected.id).unwrap();
    assert_eq!(first.access_log.len(), 1);
    assert_eq!(first.access_log[0].user_name, clerk.display_name);
    let second = store.read_appeal(&clerk, &protected.id).unwrap();
    assert_eq!(second.access_log.len(), 2, "every read is on record");
    assert!(store.unacked_count().unwrap() > before, "the reads sync");
    let ordinary = store.read_appeal(&clerk, &plain.id).unwrap();
    assert!(ordinary.access_log.is_empty());
}
