//! D-4 (issue 13 §4): any list the desktop shows, written as an .xlsx workbook. The screen gives
//! the rows it lists (every page of its query, not only the one on screen) as text cells under its
//! own column titles; this module lays them out: the title with the unit and the date, one header
//! row, thin borders, widths that fit Chinese text, the header frozen. Numbers stay numbers.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Most rows one export takes (a whole district's year of appeals fits many times over).
pub const MAX_EXPORT_ROWS: usize = 200_000;
/// Most columns.
pub const MAX_EXPORT_COLUMNS: usize = 64;

/// One list to export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ExportTable {
    /// The list's name, e.g. 信访事项 (also the sheet's and the file's name).
    pub title: String,
    /// Below the title: the unit, the date and the filter, e.g. "示范区 · 2026-12-05 · 逾期".
    pub subtitle: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Why a table cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("an export holds at most {MAX_EXPORT_ROWS} rows and {MAX_EXPORT_COLUMNS} columns; narrow the search")]
    TooLarge,
    #[error("row {row} has {got} cells for {want} columns")]
    Ragged { row: usize, got: usize, want: usize },
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] XlsxError),
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
pub fn sheet_name(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .filter(|c| !c.is_control())
        .take(31)
        .collect();
    if cleaned.trim().is_empty() {
        "Sheet1".to_string()
    } else {
        cleaned
    }
}

/// A file name stem safe on Windows and Linux: the title and the day, no path characters.
pub fn file_stem(title: &str, day: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| {
            if "<>:\"/\\|?*".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .take(60)
        .collect();
    format!("{}_{day}", cleaned.trim())
}

/// Display width of a text in Excel's character units: a CJK or other wide character counts two.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

/// A cell that reads as a plain number is written as one (sums work in the sheet); an ID number, a
/// phone number or a code with a leading zero stays text, so no digit is lost.
fn as_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t.len() > 15 || (t.len() > 1 && t.starts_with('0') && !t.starts_with("0.")) {
        return None;
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        return None;
    }
    t.parse::<f64>().ok()
}

/// The workbook's bytes.
pub fn write_table_xlsx(table: &ExportTable) -> Result<Vec<u8>, ExportError> {
    let width = table.columns.len();
    if table.rows.len() > MAX_EXPORT_ROWS || width > MAX_EXPORT_COLUMNS || width == 0 {
        return Err(ExportError::TooLarge);
    }
    if let Some((row, cells)) = table
        .rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.len() != width)
    {
        return Err(ExportError::Ragged {
            row: row + 1,
            got: cells.len(),
            want: width,
        });
    }
    let title_format = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let subtitle_format = Format::new().set_align(FormatAlign::Center);
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_background_color(0xD9E1F2);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let number = cell.clone().set_align(FormatAlign::Right);

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(&table.title))?;
    let last_col = (width - 1) as u16;
    sheet.merge_range(0, 0, 0, last_col, &table.title, &title_format)?;
    sheet.merge_range(1, 0, 1, last_col, &table.subtitle, &subtitle_format)?;
    const HEADER_ROW: u32 = 2;
    let mut widths: Vec<usize> = table.columns.iter().map(|c| display_width(c)).collect();
    for (col, name) in table.columns.iter().enumerate() {
        sheet.write_with_format(HEADER_ROW, col as u16, name, &header)?;
    }
    for (i, row) in table.rows.iter().enumerate() {
        let r = HEADER_ROW + 1 + i as u32;
        for (col, text) in row.iter().enumerate() {
            match as_number(text) {
                Some(n) => sheet.write_number_with_format(r, col as u16, n, &number)?,
                None => sheet.write_with_format(r, col as u16, text, &cell)?,
            };
            widths[col] = widths[col].max(display_width(text));
        }
    }
    for (col, w) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, (*w).clamp(6, 60) as f64 + 2.0)?;
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_and_file_names_are_safe() {
        assert_eq!(sheet_name("信访/事项[逾期]"), "信访_事项_逾期_");
        assert_eq!(sheet_name(&"𠮷".repeat(40)).chars().count(), 31);
        assert_eq!(sheet_name("  "), "Sheet1");
        assert_eq!(file_stem("a:b/c", "2026-12-05"), "a_b_c_2026-12-05");
    }

    #[test]
    fn numbers_stay_numbers_and_codes_stay_text() {
        assert_eq!(as_number("42"), Some(42.0));
        assert_eq!(as_number("-3.5"), Some(-3.5));
        assert_eq!(as_number("0.5"), Some(0.5));
        // ID numbers, phone numbers with a leading zero, dates: text.
        assert_eq!(as_number("110101199003074514"), None);
        assert_eq!(as_number("01012345678"), None);
        assert_eq!(as_number("2026-12-05"), None);
        assert_eq!(as_number("11010119900307451X"), None);
        assert_eq!(as_number(""), None);
    }

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("张𠀀明"), 6);
    }

    #[test]
    fn a_ragged_or_empty_table_is_refused() {
        let mut table = ExportTable {
            title: "t".into(),
            subtitle: String::new(),
            columns: vec!["a".into(), "b".into()],
            rows: vec![vec!["1".into()]],
        };
        assert!(matches!(
            write_table_xlsx(&table),
            Err(ExportError::Ragged {
                row: 1,
                got: 1,
                want: 2
            })
        ));
        table.columns.clear();
        table.rows.clear();
        assert!(matches!(
            write_table_xlsx(&table),
            Err(ExportError::TooLarge)
        ));
    }
}
