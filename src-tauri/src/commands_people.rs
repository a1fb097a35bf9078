//! Tauri commands of the person index (一人一档), the W-2 routing slips and the W-6 community funds.
//! Thin like `commands.rs`: every rule (which domains a role sees, whose identity a slip masks, when a
//! fund is overspent) lives in `jiceng-core`.

use crate::commands::{current, with_store, CmdResult};
use crate::state::AppState;
use crate::sync_task;
use jiceng_core::model::{
    CaseQuery, CommunityFundSummary, FundEntryInput, FundEntryRecord, FundQuery, Page, PersonHit,
    PersonProfile, RoutingSlip,
};
use tauri::{AppHandle, State};

#[tauri::command(rename_all = "snake_case")]
pub async fn search_people(
    app: AppHandle,
    state: State<'_, AppState>,
    query: CaseQuery,
) -> CmdResult<Page<PersonHit>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.search_people(&user, &query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn person_profile(
    app: AppHandle,
    state: State<'_, AppState>,
    id_number: String,
) -> CmdResult<PersonProfile> {
    let user = current(&state)?;
    with_store(&app, move |s| s.person_profile(&user, &id_number)).await
}

/// Opens an appeal; a read of a whistle-blower's appeal is logged (issue 11 §6).
#[tauri::command(rename_all = "snake_case")]
pub async fn read_appeal(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<jiceng_core::store::AppealDetail> {
    let user = current(&state)?;
    with_store(&app, move |s| s.read_appeal(&user, &id)).await
}

/// W-2 转办单, one per routed department (the complained-about department's masked by core).
#[tauri::command(rename_all = "snake_case")]
pub async fn appeal_routing_slips(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<Vec<RoutingSlip>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.appeal_routing_slips(&user, &id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn record_fund_entry(
    app: AppHandle,
    state: State<'_, AppState>,
    input: FundEntryInput,
) -> CmdResult<FundEntryRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.record_fund_entry(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_fund_entry_deleted(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    deleted: bool,
) -> CmdResult<FundEntryRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.set_fund_entry_deleted(&user, &id, deleted)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_fund_entries(
    app: AppHandle,
    state: State<'_, AppState>,
    query: FundQuery,
) -> CmdResult<Page<FundEntryRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.list_fund_entries(&user, &query)).await
}

/// W-6 allotted / spent / remaining per fund and community (None = this year, Asia/Shanghai).
#[tauri::command(rename_all = "snake_case")]
pub async fn fund_summaries(
    app: AppHandle,
    state: State<'_, AppState>,
    year: Option<i32>,
) -> CmdResult<Vec<CommunityFundSummary>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.fund_summaries(&user, year)).await
}
