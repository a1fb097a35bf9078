//! Issue 13 §2: the district's oversight dashboards. Thin: `Store::dashboard` (core::dashboard).

use crate::commands::{current, with_store, CmdResult};
use crate::state::AppState;
use jiceng_core::dashboard::{resolve_range, Dashboard};
use jiceng_core::CoreError;
use tauri::{AppHandle, State};

/// A date the UI sent (YYYY-MM-DD, Asia/Shanghai), or None when it sent none.
fn parse_day(
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<chrono::NaiveDate>, CoreError> {
    match text.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => jiceng_core::shanghai::parse_date(text)
            .map(Some)
            .ok_or_else(|| {
                CoreError::invalid(
                    field,
                    "the date must be YYYY-MM-DD",
                    "日期格式应为YYYY-MM-DD",
                )
            }),
        None => Ok(None),
    }
}

/// The dashboards of the user's scope for `from`..=`to` (YYYY-MM-DD). `to` defaults to today in
/// Asia/Shanghai (read as `statistics` reads it), `from` to the first day of the month two months
/// before `to`; a reversed range or one over 366 days is refused (core::dashboard::resolve_range).
#[tauri::command(rename_all = "snake_case")]
pub async fn dashboard(
    app: AppHandle,
    state: State<'_, AppState>,
    from: Option<String>,
    to: Option<String>,
) -> CmdResult<Dashboard> {
    let user = current(&state)?;
    with_store(&app, move |s| {
        let today = jiceng_core::shanghai::today(s.corrected_wall_millis()?);
        let (from, to) = resolve_range(
            today,
            parse_day("from", from.as_deref())?,
            parse_day("to", to.as_deref())?,
        )?;
        s.dashboard(&user, from, to)
    })
    .await
}
