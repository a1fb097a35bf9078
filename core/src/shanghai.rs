//! Dates and times on the Asia/Shanghai calendar (UTC+8 all year: China has kept no daylight saving
//! time since 1991, so a fixed offset is exact for every date this system handles).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

pub fn offset() -> FixedOffset {
    // 8 hours is always in range.
    FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

pub fn from_millis(millis: u64) -> DateTime<FixedOffset> {
    Utc.timestamp_millis_opt(millis as i64)
        .single()
        .unwrap_or_default()
        .with_timezone(&offset())
}

/// Today's date in Shanghai for a wall clock in milliseconds.
pub fn today(millis: u64) -> NaiveDate {
    from_millis(millis).date_naive()
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A Shanghai date and an "HH:MM" time of day as one instant (None when the time is empty or bad).
pub fn at_time(day: NaiveDate, hh_mm: &str) -> Option<DateTime<FixedOffset>> {
    let time = chrono::NaiveTime::parse_from_str(hh_mm.trim(), "%H:%M").ok()?;
    offset().from_local_datetime(&day.and_time(time)).single()
}

/// Parses RFC 3339, or a local time without offset read as Shanghai time; returns RFC 3339 in +08:00.
pub fn normalise_datetime(text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&offset()).to_rfc3339());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return offset()
                .from_local_datetime(&naive)
                .single()
                .map(|dt| dt.to_rfc3339());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_day_starts_at_16_utc() {
        // 2026-11-26T16:30Z is already 2026-11-27 in Shanghai.
        let millis = Utc
            .with_ymd_and_hms(2026, 11, 26, 16, 30, 0)
            .unwrap()
            .timestamp_millis() as u64;
        assert_eq!(
            today(millis),
            NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
        );
    }

    #[test]
    fn local_times_are_read_as_shanghai() {
        assert_eq!(
            normalise_datetime("2026-02-14 09:30").as_deref(),
            Some("2026-02-14T09:30:00+08:00")
        );
        assert_eq!(
            normalise_datetime("2026-02-14T01:30:00Z").as_deref(),
            Some("2026-02-14T09:30:00+08:00")
        );
        assert_eq!(normalise_datetime("yesterday"), None);
    }
}
