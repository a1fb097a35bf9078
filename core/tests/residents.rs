//! W-1 residents' register on a community workstation's store.

mod common_setup;

use jiceng_core::model::{ResidentInput, ResidentQuery, SessionUser, SpecialGroup};
use jiceng_core::store::Store;

fn workstation() -> (Store, SessionUser) {
    common_setup::community_store("ws-1")
}

fn resident(name: &str, id_number: &str, address: (&str, &str, &str)) -> ResidentInput {
    ResidentInput {
        id: None,
        name: name.into(),
        id_number: id_number.into(),
        phone: "13800138000".into(),
        building: address.0.into(),
        unit: address.1.into(),
        room: address.2.into(),
        household_head: true,
        special_groups: vec![],
        note: String::new(),
    }
}

fn search(
    store: &Store,
    clerk: &SessionUser,
    text: &str,
    group: Option<SpecialGroup>,
) -> Vec<String> {
    store
        .list_residents(
            clerk,
            &ResidentQuery {
                text: Some(text.into()),
                group,
                page: 1,
                page_size: 50,
                include_deleted: false,
            },
        )
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.name)
        .collect()
}

#[test]
fn w1_register_search_by_name_initials_id_and_address_with_rare_characters() {
    let (mut store, clerk) = workstation();
    // A 15-digit legacy number is upgraded to 18 characters (GB 11643).
    let mut elder = resident("䶮𠀀婆", "110105491231002", ("3", "2", "401"));
    elder.special_groups = vec![SpecialGroup::ElderlyAlone, SpecialGroup::LowIncome];
    let saved = store.save_resident(&clerk, elder).unwrap();
    assert_eq!(saved.id_number.len(), 18);
    assert_eq!(
        (saved.sex.as_str(), saved.birth_date.as_str()),
        ("female", "1949-12-31")
    );
    store
        .save_resident(
            &clerk,
            resident("张三", "110101199003074514", ("5", "1", "101")),
        )
        .unwrap();
    assert_eq!(search(&store, &clerk, "zs", None), vec!["张三"]);
    assert_eq!(search(&store, &clerk, "𠀀", None), vec!["䶮𠀀婆"]);
    assert_eq!(search(&store, &clerk, "0307", None), vec!["张三"]);
    assert_eq!(search(&store, &clerk, "3-2-401", None), vec!["䶮𠀀婆"]);
    assert_eq!(
        search(&store, &clerk, "", Some(SpecialGroup::ElderlyAlone)),
        vec!["䶮𠀀婆"]
    );
    assert_eq!(
        search(&store, &clerk, "", Some(SpecialGroup::Disabled)),
        Vec::<String>::new()
    );
}

#[test]
fn w1_bad_input_and_duplicates_are_refused_in_chinese_and_removal_is_reversible() {
    let (mut store, clerk) = workstation();
    let first = store
        .save_resident(
            &clerk,
            resident("李四", "11010519491231002X", ("1", "1", "101")),
        )
        .unwrap();
    let dup = store
        .save_resident(
            &clerk,
            resident("李肆", "11010519491231002x", ("2", "1", "101")),
        )
        .unwrap_err();
    assert!(dup.message_zh().contains("已登记"), "{}", dup.message_zh());
    let mut bad_phone = resident("王五", "110101199003074514", ("1", "1", "102"));
    bad_phone.phone = "电话".into();
    assert!(store
        .save_resident(&clerk, bad_phone)
        .unwrap_err()
        .message_zh()
        .contains("电话"));
    assert_eq!(
        store
            .save_resident(
                &clerk,
                resident("王五", "110101199003074515", ("1", "1", "102"))
            )
            .unwrap_err()
            .code(),
        "invalid_id_number"
    );
    let removed = store.set_resident_deleted(&clerk, &first.id, true).unwrap();
    assert!(removed.deleted);
    assert_eq!(search(&store, &clerk, "李", None), Vec::<String>::new());
    assert!(
        !store
            .set_resident_deleted(&clerk, &first.id, false)
            .unwrap()
            .deleted
    );
}

#[test]
fn w1_a_judicial_officer_cannot_read_the_register() {
    let (store, _) = workstation();
    let officer = store.login("officer", "password-1").unwrap();
    assert_eq!(
        store
            .list_residents(&officer, &ResidentQuery::default())
            .unwrap_err()
            .code(),
        "forbidden"
    );
}
