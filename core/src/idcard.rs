//! Resident identity card numbers (居民身份证号码) per GB 11643-1999.
//!
//! 18 characters: 6-digit area code, 8-digit birth date, 3-digit sequence (odd = male), one ISO 7064
//! MOD 11-2 check character (`0`-`9` or `X`). Legacy 15-digit numbers (two-digit year, no check
//! character) are upgraded by inserting "19" and computing the check character.

use chrono::NaiveDate;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdNumberError {
    #[error("ID number must have 18 characters (or 15 legacy digits), got {0}")]
    Length(usize),
    #[error("ID number may only hold digits and a final X")]
    Characters,
    #[error("ID number holds an impossible birth date {0}")]
    BirthDate(String),
    #[error("ID number check character is wrong: expected {expected}, got {got}")]
    Checksum { expected: char, got: char },
}

impl IdNumberError {
    pub fn message_zh(&self) -> String {
        match self {
            IdNumberError::Length(n) => format!("身份证号应为18位（或15位旧号），当前为{n}位"),
            IdNumberError::Characters => "身份证号只能包含数字，最后一位可以是X".to_string(),
            IdNumberError::BirthDate(d) => format!("身份证号中的出生日期{d}不存在"),
            IdNumberError::Checksum { .. } => "身份证号校验位错误，请核对号码".to_string(),
        }
    }
}

/// A checked 18-character ID number with what it tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber {
    pub number: String,
    pub birth_date: NaiveDate,
    /// true = male (odd sequence digit).
    pub male: bool,
}

impl IdNumber {
    pub fn sex_code(&self) -> &'static str {
        if self.male {
            "male"
        } else {
            "female"
        }
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The ISO 7064 MOD 11-2 check character of the first 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

/// Validates (and for 15-digit numbers, upgrades) an ID number. Whitespace around it is ignored and a
/// lower-case `x` is accepted.
pub fn parse(input: &str) -> Result<IdNumber, IdNumberError> {
    let cleaned: String = input.trim().to_uppercase();
    let count = cleaned.chars().count();
    // Full-width digits (１２３) have the right count but are not ASCII; refuse before slicing bytes.
    if !cleaned.is_ascii() {
        return Err(IdNumberError::Characters);
    }
    let number = match count {
        18 => cleaned,
        15 => {
            if !cleaned.bytes().all(|b| b.is_ascii_digit()) {
                return Err(IdNumberError::Characters);
            }
            let first17 = format!("{}19{}", &cleaned[..6], &cleaned[6..]);
            let check = check_char(&first17).ok_or(IdNumberError::Characters)?;
            format!("{first17}{check}")
        }
        n => return Err(IdNumberError::Length(n)),
    };
    let (body, last) = number.split_at(17);
    if !body.bytes().all(|b| b.is_ascii_digit())
        || !last.chars().all(|c| c.is_ascii_digit() || c == 'X')
    {
        return Err(IdNumberError::Characters);
    }
    let date_text = &body[6..14];
    let birth_date = NaiveDate::parse_from_str(date_text, "%Y%m%d")
        .map_err(|_| IdNumberError::BirthDate(date_text.to_string()))?;
    let expected = check_char(body).ok_or(IdNumberError::Characters)?;
    let got = last.chars().next().unwrap_or(' ');
    if expected != got {
        return Err(IdNumberError::Checksum { expected, got });
    }
    let male = (body.as_bytes()[16] - b'0') % 2 == 1;
    Ok(IdNumber {
        number,
        birth_date,
        male,
    })
}

/// Builds a valid number from area code, birth date and sequence (for demo data and tests).
pub fn compose(area: &str, birth: NaiveDate, sequence: u16) -> String {
    let first17 = format!("{area}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
    let check = check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb11643_standard_example_validates() {
        // The example number printed in GB 11643-1999 itself.
        let id = parse("11010519491231002X").expect("valid");
        assert_eq!(
            id.birth_date,
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(!id.male);
    }

    #[test]
    fn wrong_check_character_is_refused() {
        let err = parse("110105194912310021").unwrap_err();
        assert_eq!(
            err,
            IdNumberError::Checksum {
                expected: 'X',
                got: '1'
            }
        );
        assert!(err.message_zh().contains("校验位"));
    }

    #[test]
    fn legacy_15_digit_number_is_upgraded() {
        let id = parse("110105491231002").expect("valid legacy");
        assert_eq!(id.number.len(), 18);
        assert!(id.number.starts_with("11010519491231002"));
        assert_eq!(parse(&id.number).unwrap(), id);
    }

    #[test]
    fn lower_case_x_and_spaces_are_accepted() {
        assert!(parse(" 11010519491231002x ").is_ok());
    }

    #[test]
    fn impossible_dates_and_lengths_are_refused() {
        let bad_date = compose("110105", NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(), 1)
            .replace("20000101", "20000230");
        assert!(matches!(
            parse(&bad_date),
            Err(IdNumberError::BirthDate(_)) | Err(IdNumberError::Checksum { .. })
        ));
        assert_eq!(parse("123"), Err(IdNumberError::Length(3)));
        assert_eq!(parse("11010519491231002Y"), Err(IdNumberError::Characters));
        assert_eq!(
            parse("１１０１０５１９４９１２３１００２Ｘ").map(|_| ()),
            Err(IdNumberError::Characters)
        );
    }

    #[test]
    fn compose_round_trips_and_sets_sex() {
        let d = NaiveDate::from_ymd_opt(1990, 2, 28).unwrap();
        let male = parse(&compose("320102", d, 13)).unwrap();
        assert!(male.male);
        assert_eq!(male.birth_date, d);
        assert!(!parse(&compose("320102", d, 14)).unwrap().male);
    }
}
