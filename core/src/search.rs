//! Search helpers: pinyin initials so a clerk can type "zs" for 张三, and the folded name so a
//! minority name (买买提·艾力) is found however its middle dot was typed (issue 14 §5; W-1, C-7, D-1:
//! every register is searched by name).

use pinyin::ToPinyin;

/// The characters people type for the middle dot of a transliterated name (间隔号), and spaces: the
/// Chinese standard dot U+00B7, the bullet U+2022, the katakana middle dot U+30FB and its half-width
/// U+FF65, the full-width full stop U+FF0E, the ASCII full stop, the hyphenation point U+2027, the Greek
/// ano teleia U+0387, the dot and bullet operators U+22C5 / U+2219, the word-separator middle dot
/// U+2E31, and every Unicode space (U+3000 included).
pub fn is_name_separator(ch: char) -> bool {
    ch.is_whitespace()
        || matches!(
            ch,
            '\u{00B7}'
                | '\u{2022}'
                | '\u{30FB}'
                | '\u{FF65}'
                | '\u{FF0E}'
                | '.'
                | '\u{2027}'
                | '\u{0387}'
                | '\u{22C5}'
                | '\u{2219}'
                | '\u{2E31}'
                | '\u{200B}'
                | '\u{FEFF}'
        )
}

/// A name as it is searched: every middle-dot look-alike and space removed (so 买买提·艾力,
/// 买买提.艾力, 买买提 艾力 and 买买提艾力 are one text), full-width ASCII (ＡＢ１２) folded to ASCII.
/// Everything else is kept as it is: Han characters, 4-byte 生僻字 (𠮷), the case of letters, the digits
/// and X of an ID number.
pub fn fold_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if is_name_separator(ch) {
            continue;
        }
        out.push(fold_width(ch));
    }
    out
}

/// Full-width ASCII forms (U+FF01..U+FF5E) as their ASCII characters; any other character unchanged.
fn fold_width(ch: char) -> char {
    match u32::from(ch) {
        c @ 0xFF01..=0xFF5E => char::from_u32(c - 0xFEE0).unwrap_or(ch),
        _ => ch,
    }
}

/// The LIKE pattern ("any part", `ESCAPE '\'`) that finds `query` in a folded name column.
pub fn name_pattern(query: &str) -> String {
    format!("%{}%", like_escape(&fold_name(query)))
}

/// The LIKE pattern (from the start, `ESCAPE '\'`) that finds `query` in a pinyin-initials column:
/// "mmt.al", "ｍｍｔ　ａｌ" and "mmtal" are one query.
pub fn initials_pattern(query: &str) -> String {
    format!("{}%", like_escape(&fold_name(query).to_lowercase()))
}

/// Lower-case pinyin initials of the Han characters of `text`; ASCII letters and digits are kept;
/// middle dots and spaces are skipped ([`is_name_separator`]); characters without a known reading (some
/// 生僻字) are kept as they are so they still match.
pub fn pinyin_initials(text: &str) -> String {
    let folded = fold_name(text);
    let mut out = String::with_capacity(folded.len());
    for (ch, reading) in folded.chars().zip(folded.as_str().to_pinyin()) {
        match reading {
            Some(p) => out.push_str(p.first_letter()),
            None if ch.is_ascii_alphanumeric() => out.push(ch.to_ascii_lowercase()),
            None => out.push(ch),
        }
    }
    out
}

/// Escapes `%`, `_` and `\` for a SQL LIKE pattern using `ESCAPE '\'`.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_common_and_rare_names() {
        assert_eq!(pinyin_initials("张三"), "zs");
        assert_eq!(pinyin_initials("欧阳 娜娜"), "oynn");
        // 𠀀 (U+20000, 4-byte UTF-8) may have no reading: kept as itself.
        let rare = pinyin_initials("王𠀀");
        assert!(rare.starts_with('w'));
        assert_eq!(rare.chars().count(), 2);
    }

    /// Every spelling of a minority name a clerk may type (issue 14 §5).
    const SPELLINGS: [&str; 6] = [
        "买买提艾力",
        "买买提.艾力",
        "买买提•艾力",
        "买买提・艾力",
        "买买提 艾力",
        "买买提·艾力",
    ];

    #[test]
    fn every_middle_dot_and_space_folds_away() {
        for spelling in SPELLINGS {
            assert_eq!(fold_name(spelling), "买买提艾力", "{spelling}");
        }
        for dot in [
            '\u{00B7}', '\u{2022}', '\u{30FB}', '\u{FF0E}', '.', '\u{2027}', '\u{FF65}',
            '\u{0387}', ' ', '\u{3000}', '\u{00A0}', '\t',
        ] {
            assert_eq!(
                fold_name(&format!("阿依古丽{dot}买买提")),
                "阿依古丽买买提",
                "{dot:?}"
            );
            assert!(is_name_separator(dot), "{dot:?}");
        }
        assert_eq!(fold_name("  ·买买提··艾力· "), "买买提艾力");
        assert_eq!(fold_name("·"), "");
    }

    #[test]
    fn full_width_ascii_folds_to_ascii_and_everything_else_is_kept() {
        assert_eq!(fold_name("ＡＢｃ１２３"), "ABc123");
        assert_eq!(fold_name("Ｍａｒｙ　Ｓｍｉｔｈ"), "MarySmith");
        // 4-byte names (U+20BB7 𠮷, U+2A6A5 𪚥) are kept whole.
        assert_eq!(fold_name("𠮷野·𪚥"), "𠮷野𪚥");
        assert_eq!(fold_name("𠮷").chars().count(), 1);
        // W-1: ID numbers and phones are untouched.
        assert_eq!(fold_name("11010519491231002X"), "11010519491231002X");
        assert_eq!(fold_name("110101199003074514"), "110101199003074514");
        assert_eq!(fold_name("13800138000"), "13800138000");
        // Hyphens and other punctuation are not middle dots.
        assert_eq!(fold_name("3-2-401"), "3-2-401");
    }

    #[test]
    fn initials_skip_every_middle_dot() {
        for spelling in SPELLINGS {
            assert_eq!(pinyin_initials(spelling), "mmtal", "{spelling}");
        }
        assert_eq!(pinyin_initials("阿依古丽·买买提"), "ayglmmt");
        assert_eq!(initials_pattern("mmt.al"), "mmtal%");
        assert_eq!(initials_pattern("ＭＭＴ　ＡＬ"), "mmtal%");
    }

    #[test]
    fn patterns_fold_then_escape() {
        assert_eq!(name_pattern(" 买买提•艾力 "), "%买买提艾力%");
        assert_eq!(name_pattern("50%"), "%50\\%%");
    }

    #[test]
    fn like_escape_neutralises_wildcards() {
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
    }
}
