//! Search helpers: pinyin initials so a clerk can type "zs" for 张三.

use pinyin::ToPinyin;

/// Lower-case pinyin initials of the Han characters of `text`; ASCII letters and digits are kept;
/// characters without a known reading (some 生僻字) are kept as they are so they still match.
pub fn pinyin_initials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (ch, reading) in text.chars().zip(text.to_pinyin()) {
        match reading {
            Some(p) => out.push_str(p.first_letter()),
            None if ch.is_ascii_alphanumeric() => out.push(ch.to_ascii_lowercase()),
            None if ch.is_whitespace() || ch == '·' || ch == '•' => {}
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

    #[test]
    fn like_escape_neutralises_wildcards() {
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
    }
}
