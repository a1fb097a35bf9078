//! Commands of the corrections screens added beside the case (people, plan, documents, location,
//! transfers, assessment requests, oversight, per-record history) and of the district's settings and
//! conflict review.
//! Thin like `commands`: translate and delegate to `jiceng-core`.

use crate::commands::{current, with_store, CmdResult};
use crate::state::AppState;
use crate::sync_task;
use jiceng_core::casefile::{
    CasePlan, CasePlanInput, DocumentInput, DocumentRecord, PersonInput, PersonRecord,
    PriorityGroup,
};
use jiceng_core::investigation::{
    AssessmentOpinion, InvestigationInput, InvestigationQuery, InvestigationRecord,
};
use jiceng_core::location::{
    LocationEvent, LocationEventInput, LocationPeriod, LocationPeriodInput,
};
use jiceng_core::model::{
    CaseKind, CaseRecord, ConflictChoice, ConflictReview, FieldChange, OrgUnitRef, Page,
};
use jiceng_core::oversight::{
    MeetingInput, MeetingRecord, RecommendationInput, RecommendationRecord,
};
use jiceng_core::store::DeadlineSettings;
use jiceng_core::transfer::{TransferInput, TransferRecord, TransferStep};
use tauri::{AppHandle, State};

#[tauri::command(rename_all = "snake_case")]
pub async fn save_person(
    app: AppHandle,
    state: State<'_, AppState>,
    input: PersonInput,
) -> CmdResult<PersonRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.save_person(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_person_deleted(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    deleted: bool,
) -> CmdResult<()> {
    let user = current(&state)?;
    with_store(&app, move |s| s.set_person_deleted(&user, &id, deleted)).await?;
    sync_task::emit_status(&app);
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_plan(
    app: AppHandle,
    state: State<'_, AppState>,
    input: CasePlanInput,
) -> CmdResult<CasePlan> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.save_plan(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_document(
    app: AppHandle,
    state: State<'_, AppState>,
    input: DocumentInput,
) -> CmdResult<DocumentRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.save_document(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_document_deleted(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    deleted: bool,
) -> CmdResult<()> {
    let user = current(&state)?;
    with_store(&app, move |s| s.set_document_deleted(&user, &id, deleted)).await?;
    sync_task::emit_status(&app);
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn record_history(
    app: AppHandle,
    state: State<'_, AppState>,
    table: String,
    id: String,
) -> CmdResult<Vec<FieldChange>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.record_history(&user, &table, &id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_location_period(
    app: AppHandle,
    state: State<'_, AppState>,
    input: LocationPeriodInput,
) -> CmdResult<LocationPeriod> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.save_location_period(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn end_location_period(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    ended_on: String,
    reason: String,
) -> CmdResult<LocationPeriod> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| {
        s.end_location_period(&user, &id, &ended_on, &reason)
    })
    .await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_location_event(
    app: AppHandle,
    state: State<'_, AppState>,
    input: LocationEventInput,
) -> CmdResult<LocationEvent> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.add_location_event(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn apply_transfer(
    app: AppHandle,
    state: State<'_, AppState>,
    input: TransferInput,
) -> CmdResult<TransferRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.apply_transfer(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn act_on_transfer(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    step: TransferStep,
) -> CmdResult<TransferRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.act_on_transfer(&user, &id, step)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn judicial_offices(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<Vec<OrgUnitRef>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.judicial_offices(&user)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_investigations(
    app: AppHandle,
    state: State<'_, AppState>,
    query: InvestigationQuery,
) -> CmdResult<Page<InvestigationRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.list_investigations(&user, &query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn register_investigation(
    app: AppHandle,
    state: State<'_, AppState>,
    input: InvestigationInput,
) -> CmdResult<InvestigationRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.register_investigation(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn answer_investigation(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    opinion: AssessmentOpinion,
    opinion_on: String,
    summary: String,
) -> CmdResult<InvestigationRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| {
        s.answer_investigation(&user, &id, opinion, &opinion_on, &summary)
    })
    .await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn withdraw_investigation(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    note: String,
) -> CmdResult<InvestigationRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.withdraw_investigation(&user, &id, &note)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn deadline_settings(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<DeadlineSettings> {
    let user = current(&state)?;
    with_store(&app, move |s| s.deadline_settings(&user)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_rule_table(
    app: AppHandle,
    state: State<'_, AppState>,
    json: Option<String>,
) -> CmdResult<()> {
    let user = current(&state)?;
    with_store(&app, move |s| s.save_rule_table(&user, json.as_deref())).await?;
    sync_task::emit_status(&app);
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_calendar(
    app: AppHandle,
    state: State<'_, AppState>,
    json: Option<String>,
) -> CmdResult<()> {
    let user = current(&state)?;
    with_store(&app, move |s| s.save_calendar(&user, json.as_deref())).await?;
    sync_task::emit_status(&app);
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn conflict_reviews(
    app: AppHandle,
    state: State<'_, AppState>,
    include_resolved: bool,
    page: u32,
    page_size: u32,
) -> CmdResult<Page<ConflictReview>> {
    let user = current(&state)?;
    with_store(&app, move |s| {
        s.conflict_reviews(&user, include_resolved, page, page_size)
    })
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn resolve_conflict(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    choice: ConflictChoice,
    note: String,
) -> CmdResult<ConflictReview> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.resolve_conflict(&user, &id, choice, &note)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_case_kinds(
    app: AppHandle,
    state: State<'_, AppState>,
    disabled: Vec<CaseKind>,
) -> CmdResult<()> {
    let user = current(&state)?;
    with_store(&app, move |s| s.save_case_kinds(&user, disabled)).await?;
    sync_task::emit_status(&app);
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn office_officers(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<Vec<OrgUnitRef>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.office_officers(&user)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn assign_officer(
    app: AppHandle,
    state: State<'_, AppState>,
    case_id: String,
    officer_id: Option<String>,
) -> CmdResult<CaseRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| {
        s.assign_officer(&user, &case_id, officer_id.as_deref())
    })
    .await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_recommendations(
    app: AppHandle,
    state: State<'_, AppState>,
    page: u32,
    page_size: u32,
) -> CmdResult<Page<RecommendationRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| {
        s.list_recommendations(&user, page, page_size)
    })
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn register_recommendation(
    app: AppHandle,
    state: State<'_, AppState>,
    input: RecommendationInput,
) -> CmdResult<RecommendationRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.register_recommendation(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn reply_recommendation(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    adopted: bool,
    reply_on: String,
    reply_text: String,
) -> CmdResult<RecommendationRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| {
        s.reply_recommendation(&user, &id, adopted, &reply_on, &reply_text)
    })
    .await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_priority_groups(
    app: AppHandle,
    state: State<'_, AppState>,
    case_id: String,
    groups: Vec<PriorityGroup>,
) -> CmdResult<CaseRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| {
        s.set_priority_groups(&user, &case_id, &groups)
    })
    .await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_meetings(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<Vec<MeetingRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.list_meetings(&user)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_meeting(
    app: AppHandle,
    state: State<'_, AppState>,
    input: MeetingInput,
) -> CmdResult<MeetingRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.save_meeting(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}
