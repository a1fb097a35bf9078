//! Issue 13 §4 (D-4): a list exported to .xlsx, read back: the sheet named after the list, the title
//! and subtitle, the header, every row; 4-byte names intact; ID numbers kept as text (no digit lost to
//! a float), counts written as numbers.

use jiceng_core::table_export::{write_table_xlsx, ExportTable};
use std::io::Read;

fn parts(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut out = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("a part");
        let mut text = String::new();
        file.read_to_string(&mut text).expect("text");
        out.insert(file.name().expect("a name").to_string(), text);
    }
    out
}

#[test]
fn d4_a_list_reads_back_with_its_title_header_rows_and_rare_names() {
    let table = ExportTable {
        title: "信访事项".to_string(),
        subtitle: "示范区 · 截至 2026-12-05 · 逾期".to_string(),
        columns: vec!["姓名".into(), "身份证号".into(), "件数".into()],
        rows: vec![
            vec!["张𠀀明".into(), "110101199003074514".into(), "3".into()],
            vec!["欧阳䶮".into(), "11010119900307451X".into(), "12".into()],
        ],
    };
    let bytes = write_table_xlsx(&table).expect("the workbook");
    let parts = parts(&bytes);
    assert!(parts["xl/workbook.xml"].contains("<sheet name=\"信访事项\""));
    let strings = &parts["xl/sharedStrings.xml"];
    for text in [
        "信访事项",
        "示范区 · 截至 2026-12-05 · 逾期",
        "姓名",
        "身份证号",
        "件数",
        "张𠀀明",
        "欧阳䶮",
        "110101199003074514",
        "11010119900307451X",
    ] {
        assert!(strings.contains(text), "{text} in the shared strings");
    }
    let sheet = &parts["xl/worksheets/sheet1.xml"];
    // The title and subtitle span the columns; counts are numbers (<v>3</v>), not strings.
    assert!(sheet.contains("<mergeCell ref=\"A1:C1\"/>"), "{sheet}");
    assert!(sheet.contains("<mergeCell ref=\"A2:C2\"/>"));
    assert!(sheet.contains("<c r=\"C4\" s=\"") && sheet.contains("<v>3</v>"));
    assert!(!sheet.contains("<c r=\"B4\" s=\"5\"><v>1.10101"));
    // Four rows of the sheet hold cells: title, subtitle, header, two data rows.
    assert_eq!(sheet.matches("<row r=").count(), 5);
}
