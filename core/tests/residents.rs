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
    let (mut store, _) = workstation();
    let officer = store.login("officer", "password-1").unwrap();
    assert_eq!(
        store
            .list_residents(&officer, &ResidentQuery::default())
            .unwrap_err()
            .code(),
        "forbidden"
    );
}

#[test]
fn w1_two_clerks_register_the_same_person_offline_then_merge_and_undo() {
    // Issue 4: both clerks register 张三 with the same ID number and different phones while offline.
    let (mut a, clerk_a) = common_setup::community_store("ws-a");
    let (mut b, clerk_b) = common_setup::community_store("ws-b");
    let mut first = resident("张三", "110101199003074514", ("5", "1", "101"));
    first.phone = "13800000001".into();
    let mut second = resident("张三", "110101199003074514", ("5", "1", "101"));
    second.phone = "13900000002".into();
    let kept = a.save_resident(&clerk_a, first).unwrap();
    let other = b.save_resident(&clerk_b, second).unwrap();
    // Sync: each receives the other's log.
    let (log_a, log_b) = (a.own_log().unwrap(), b.own_log().unwrap());
    a.apply_remote(&log_b, 0).unwrap();
    b.apply_remote(&log_a, 0).unwrap();
    for (store, clerk) in [(&a, &clerk_a), (&b, &clerk_b)] {
        let suggestions = store.duplicate_suggestions(clerk).unwrap();
        assert_eq!(suggestions.len(), 1, "one person, one duplicate suggestion");
        assert_eq!(
            suggestions[0].residents.len(),
            2,
            "no data lost: both registrations are there"
        );
    }
    // The clerk merges; the merge is an operation like any other and reaches the other workstation.
    let keep_id = a.duplicate_suggestions(&clerk_a).unwrap()[0].residents[0]
        .id
        .clone();
    let merge_id = if keep_id == kept.id {
        other.id.clone()
    } else {
        kept.id.clone()
    };
    let merged = a.merge_residents(&clerk_a, &keep_id, &merge_id).unwrap();
    assert_eq!(merged.merged_ids, vec![merge_id.clone()]);
    assert_eq!(merged.other_phones.len(), 1, "the other phone is kept");
    b.apply_remote(&a.own_log().unwrap(), 0).unwrap();
    for (store, clerk) in [(&a, &clerk_a), (&b, &clerk_b)] {
        assert!(store.duplicate_suggestions(clerk).unwrap().is_empty());
        assert_eq!(search(store, clerk, "张三", None).len(), 1, "one person");
        // Searching the merged registration's phone finds the person it was merged into.
        let by_phone = store
            .list_residents(
                clerk,
                &ResidentQuery {
                    text: Some("1390000".into()),
                    page: 1,
                    page_size: 10,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(by_phone.items.len(), 1);
        assert_eq!(by_phone.items[0].id, keep_id);
    }
    // Undo.
    a.undo_resident_merge(&clerk_a, &merge_id).unwrap();
    assert_eq!(search(&a, &clerk_a, "张三", None).len(), 2);
    assert_eq!(a.duplicate_suggestions(&clerk_a).unwrap().len(), 1);
    assert!(a.merge_residents(&clerk_a, &keep_id, &keep_id).is_err());
}

#[test]
fn w1_search_by_text_shape_addresses_phones_latin_names_and_paged_totals() {
    // The indexed search (W-1 at 100,000 residents) keeps every way a clerk searches.
    let (mut store, clerk) = workstation();
    store
        .save_resident(
            &clerk,
            resident("䶮𠀀婆", "11010519491231002X", ("3", "2", "401")),
        )
        .unwrap();
    let mut smith = resident("John Smith", "110101199003074514", ("5", "1", "101"));
    smith.phone = "010-66778899".into();
    smith.special_groups = vec![SpecialGroup::Veteran];
    store.save_resident(&clerk, smith).unwrap();
    for (text, expected) in [
        ("3栋2单元401室", "䶮𠀀婆"),
        ("3-2", "䶮𠀀婆"),
        ("5栋", "John Smith"),
        ("6677", "John Smith"),
        ("smith", "John Smith"),
        ("john", "John Smith"),
        ("11010519491231002x", "䶮𠀀婆"),
        ("1949123", "䶮𠀀婆"),
    ] {
        assert_eq!(search(&store, &clerk, text, None), vec![expected], "{text}");
    }
    assert_eq!(
        search(&store, &clerk, "smith", Some(SpecialGroup::Veteran)),
        vec!["John Smith"]
    );
    assert!(search(&store, &clerk, "smith", Some(SpecialGroup::Disabled)).is_empty());
    // Totals and pages under a search that matches both ("1101" is in both ID numbers).
    let page = store
        .list_residents(
            &clerk,
            &ResidentQuery {
                text: Some("1101".into()),
                page: 2,
                page_size: 1,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((page.total, page.items.len()), (2, 1));
}
