//! Issue 14 §5, "the details a clerk notices": minority names found however their middle dot is typed
//! (W-1 residents' register, C-7 corrections case files, the one person index), and the task digest's
//! rule named, not only numbered.

mod common_setup;
use common_setup::case_input;

use jiceng_core::model::{CaseQuery, CaseStatus, ResidentInput, ResidentQuery, SessionUser};
use jiceng_core::store::Store;

/// Every spelling a clerk may type for 买买提·艾力 (issue 14 §5).
const SPELLINGS: [&str; 8] = [
    "买买提艾力",
    "买买提.艾力",
    "买买提•艾力",
    "买买提・艾力",
    "买买提 艾力",
    "买买提·艾力",
    "买买提　艾力",
    "买买提．艾力",
];

fn resident(name: &str, id_number: &str) -> ResidentInput {
    ResidentInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        phone: "13800138000".into(),
        building: "3".into(),
        unit: "2".into(),
        room: "401".into(),
        household_head: true,
        special_groups: vec![],
        note: String::new(),
    }
}

fn residents_found(store: &Store, clerk: &SessionUser, text: &str) -> Vec<String> {
    store
        .list_residents(
            clerk,
            &ResidentQuery {
                text: Some(text.into()),
                group: None,
                page: 1,
                page_size: 50,
                include_deleted: false,
            },
        )
        .expect("list residents")
        .items
        .into_iter()
        .map(|r| r.name)
        .collect()
}

fn query(text: &str) -> CaseQuery {
    CaseQuery {
        text: Some(text.to_string()),
        page: 1,
        page_size: 50,
        include_deleted: false,
    }
}

fn cases_found(store: &Store, user: &SessionUser, text: &str) -> Vec<String> {
    store
        .list_cases(user, &query(text))
        .expect("list cases")
        .items
        .into_iter()
        .map(|c| c.name)
        .collect()
}

fn people_found(store: &Store, user: &SessionUser, text: &str) -> Vec<String> {
    store
        .search_people(user, &query(text))
        .expect("search people")
        .items
        .into_iter()
        .map(|p| p.name)
        .collect()
}

#[test]
fn w1_a_resident_named_with_a_middle_dot_is_found_by_every_spelling_of_the_dot() {
    let (mut store, clerk) = common_setup::community_store("ws-dots");
    store
        .save_resident(&clerk, resident("买买提·艾力", "650101198503120020"))
        .expect("resident");
    store
        .save_resident(&clerk, resident("阿依古丽·买买提", "650101199007150049"))
        .expect("resident");
    store
        .save_resident(&clerk, resident("张三", "110101199003074514"))
        .expect("resident");
    for spelling in SPELLINGS {
        assert_eq!(
            residents_found(&store, &clerk, spelling),
            vec!["买买提·艾力".to_string()],
            "{spelling}"
        );
    }
    assert_eq!(
        residents_found(&store, &clerk, "阿依古丽买买提"),
        vec!["阿依古丽·买买提".to_string()]
    );
    // Part of the name, across the dot, and the pinyin initials with or without a dot.
    assert_eq!(
        residents_found(&store, &clerk, "古丽买买").len(),
        1,
        "a part across the dot"
    );
    let mut both = residents_found(&store, &clerk, "买买提");
    both.sort();
    assert_eq!(both, vec!["买买提·艾力", "阿依古丽·买买提"]);
    for initials in ["mmtal", "mmt.al", "MMT AL", "ｍｍｔａｌ"] {
        assert_eq!(
            residents_found(&store, &clerk, initials),
            vec!["买买提·艾力".to_string()],
            "{initials}"
        );
    }
    // ID numbers and ordinary names are searched as before.
    assert_eq!(
        residents_found(&store, &clerk, "650101198503120020"),
        vec!["买买提·艾力".to_string()]
    );
    assert_eq!(
        residents_found(&store, &clerk, "zs"),
        vec!["张三".to_string()]
    );
}

#[test]
fn c7_a_corrections_case_named_with_a_middle_dot_is_found_by_every_spelling_of_the_dot() {
    let (mut store, officer) = common_setup::office_store("site-dots");
    store
        .save_case(&officer, case_input("买买提·艾力", "650101198503120020"))
        .expect("case");
    store
        .save_case(
            &officer,
            case_input("阿依古丽·买买提", "650101199007150049"),
        )
        .expect("case");
    store
        .save_case(&officer, case_input("欧阳娜娜", "11010519491231002X"))
        .expect("case");
    for spelling in SPELLINGS {
        assert_eq!(
            cases_found(&store, &officer, spelling),
            vec!["买买提·艾力".to_string()],
            "{spelling}"
        );
        // The one person index (search_people) folds the same way.
        assert_eq!(
            people_found(&store, &officer, spelling),
            vec!["买买提·艾力".to_string()],
            "people: {spelling}"
        );
    }
    assert_eq!(
        cases_found(&store, &officer, "阿依古丽买买提"),
        vec!["阿依古丽·买买提".to_string()]
    );
    assert_eq!(
        cases_found(&store, &officer, "mmt・al"),
        vec!["买买提·艾力".to_string()]
    );
    assert_eq!(cases_found(&store, &officer, "oynn"), vec!["欧阳娜娜"]);
    assert_eq!(cases_found(&store, &officer, "1002x"), vec!["欧阳娜娜"]);
}

#[test]
fn a_store_of_the_previous_schema_gets_its_names_folded_when_it_opens() {
    // Issue 14 §5: migration 33 fills name_search for the rows already there.
    let dir = std::env::temp_dir().join(format!("jiceng-name-search-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("site.sqlite");
    let officer = {
        let mut old = Store::open_at_schema(&path, 32)
            .expect("old store")
            .with_clock(common_setup::fixed_clock());
        old.set_identity(&common_setup::identity("old-laptop"))
            .expect("identity");
        let user = common_setup::seed_office_user(&mut old);
        old.save_case(&user, case_input("买买提.艾力", "650101198503120020"))
            .expect("case");
        user
    };
    let new = Store::open(&path)
        .expect("migrated")
        .with_clock(common_setup::fixed_clock());
    let folded: String = new
        .connection()
        .query_row("SELECT name_search FROM corr_case", [], |r| r.get(0))
        .expect("name_search");
    assert_eq!(folded, "买买提艾力");
    let initials: String = new
        .connection()
        .query_row("SELECT name_initials FROM corr_case", [], |r| r.get(0))
        .expect("name_initials");
    assert_eq!(initials, "mmtal");
    assert_eq!(
        cases_found(&new, &officer, "买买提·艾力"),
        vec!["买买提.艾力"]
    );
    assert_eq!(cases_found(&new, &officer, "mmtal"), vec!["买买提.艾力"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn c14_the_digest_names_each_rule_beside_its_id() {
    use chrono::NaiveDate;
    let (mut store, officer) = common_setup::office_store("site-rules");
    let mut input = case_input("卫十五", "110101199003074514");
    input.status = Some(CaseStatus::InCorrection);
    let case = store.save_case(&officer, input).expect("case");
    let on_day = NaiveDate::from_ymd_opt(2026, 9, 20).expect("day");
    let tasks = store
        .case_tasks(
            &store.get_case(&officer, &case.id).expect("case").case,
            on_day,
        )
        .expect("tasks");
    let quarterly = tasks
        .iter()
        .find(|t| t.rule_id == "C-14.quarterly_assessment")
        .expect("C-14 quarterly task");
    assert_eq!(quarterly.rule_name, "每季度考评一次");
    assert_eq!(quarterly.rule_name_en, "One quarterly assessment");
    for task in &tasks {
        assert!(!task.rule_name.is_empty(), "{} has a name", task.rule_id);
        assert_ne!(task.rule_name, task.rule_id);
    }
}
