//! The Tauri commands the UI invokes. Thin: translate arguments and errors, delegate to `jiceng-core`.
//! No business rules and no SQL here. Argument names are snake_case on the JS side too.

use crate::state::AppState;
use crate::sync_task;
use jiceng_core::model::{
    AdmissionDecision, AdmissionInput, AdmissionRecord, MediationAction, MediationInput,
    MediationRecord, MediationSession, MediationSessionInput, ServiceInput, ServiceRecord,
    VolunteerInput, VolunteerRecord, VolunteerYear,
};
use jiceng_core::model::{
    AppInfo, AppealAction, AppealInput, AppealRecord, AssessmentInput, AssessmentRecord,
    CaseDetail, CaseInput, CaseQuery, CaseRecord, CheckinInput, CheckinRecord, DuplicateSuggestion,
    EntryInput, EntryRecord, LeaveDecision, LeaveInput, LeaveRecord, Page, ResidentInput,
    ResidentQuery, ResidentRecord, SessionUser, SyncStatus, TaskDigest,
};
use jiceng_core::stats::StatisticsReport;
use jiceng_core::{CoreError, Store, SyncError};
use serde::Serialize;
use std::sync::Arc;
use tauri::{AppHandle, Manager, State};

/// What a failed command returns to the UI: a stable machine code and a zh-CN message for people.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UiError {
    pub code: String,
    pub message: String,
}

impl UiError {
    pub fn new(code: &str, message: impl Into<String>) -> UiError {
        UiError {
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn not_logged_in() -> UiError {
        UiError::new("not_logged_in", "请先登录。")
    }

    fn internal(detail: impl std::fmt::Display) -> UiError {
        eprintln!("[jiceng] internal error: {detail}");
        UiError::new("internal", "程序内部错误，请重试；若仍出错请重启程序。")
    }
}

impl From<CoreError> for UiError {
    fn from(e: CoreError) -> UiError {
        eprintln!("[jiceng] {}: {e}", e.code());
        UiError::new(e.code(), e.message_zh())
    }
}

impl From<SyncError> for UiError {
    fn from(e: SyncError) -> UiError {
        eprintln!("[jiceng] sync {}: {e}", e.code());
        UiError::new(e.code(), e.message_zh())
    }
}

pub type CmdResult<T> = Result<T, UiError>;

/// Runs `f` on the blocking pool with the store locked, so SQLite work and password hashing never
/// stall the window's event loop.
pub(crate) async fn with_store<T, F>(app: &AppHandle, f: F) -> CmdResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, CoreError> + Send + 'static,
{
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        let open = state.opened()?;
        let mut store = open.store();
        f(&mut store).map_err(UiError::from)
    })
    .await
    .map_err(UiError::internal)?
}

pub(crate) fn current(state: &AppState) -> CmdResult<SessionUser> {
    state.session().clone().ok_or_else(UiError::not_logged_in)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn app_info(app: AppHandle) -> CmdResult<AppInfo> {
    blocking(&app, |state| {
        let open = state.unlocked();
        state.vault.app_info(open.as_deref())
    })
    .await
}

/// Runs `f` on the app's state off the async runtime (key derivation and file work are blocking).
pub(crate) async fn blocking<T, E, F>(app: &AppHandle, f: F) -> CmdResult<T>
where
    T: Send + 'static,
    UiError: From<E>,
    F: FnOnce(&AppState) -> Result<T, E> + Send + 'static,
{
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        f(&state).map_err(UiError::from)
    })
    .await
    .map_err(UiError::internal)?
}

#[tauri::command(rename_all = "snake_case")]
pub async fn enrol(
    app: AppHandle,
    state: State<'_, AppState>,
    server_url: String,
    code: String,
    allow_plain_http: Option<bool>,
) -> CmdResult<AppInfo> {
    {
        let _gate = state.sync_gate.lock().await;
        // Issue 11 §1: the enrolment writes into a new encrypted store, open until the app closes
        // or someone signs out; the accounts it brings get their key entries at once.
        let open = match state.unlocked() {
            Some(open) => open,
            None => blocking(&app, |state| state.vault.create().map(Arc::new)).await?,
        };
        state.set_unlocked(Some(open.clone()));
        jiceng_core::sync::enrol_with(
            &open.store,
            &server_url,
            &code,
            allow_plain_http.unwrap_or(false),
        )
        .await?;
        sync_task::after_sync(&state, &open).await;
    }
    sync_task::emit_status(&app);
    state.sync_wake.notify_one();
    app_info(app).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn login(
    app: AppHandle,
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> CmdResult<SessionUser> {
    // Issue 11 §1: with the store open (after an enrolment or the recovery code) the store checks
    // the account; else the key file's entry for the account opens it first.
    let user = blocking(&app, move |state| -> Result<SessionUser, CoreError> {
        match state.unlocked() {
            Some(open) => {
                let user = open.store().login(&username, &password)?;
                state.vault.refresh(&open)?;
                Ok(user)
            }
            None => {
                let (open, user) = state.vault.unlock(&username, &password)?;
                state.set_unlocked(Some(Arc::new(open)));
                Ok(user)
            }
        }
    })
    .await?;
    *state.session() = Some(user.clone());
    state.sync_wake.notify_one();
    Ok(user)
}

/// Opens the store with the site's recovery code from the district (nobody signed in yet): the next
/// sync brings the district's password reset, and the sign-in goes through the open store.
#[tauri::command(rename_all = "snake_case")]
pub async fn unlock_with_recovery_code(
    app: AppHandle,
    state: State<'_, AppState>,
    recovery_code: String,
) -> CmdResult<AppInfo> {
    blocking(&app, move |state| -> Result<(), CoreError> {
        let open = state.vault.unlock_with_recovery(&recovery_code)?;
        state.set_unlocked(Some(Arc::new(open)));
        Ok(())
    })
    .await?;
    state.sync_wake.notify_one();
    app_info(app).await
}

/// Signing out closes the store: the key leaves memory, the file stays encrypted.
#[tauri::command(rename_all = "snake_case")]
pub async fn logout(state: State<'_, AppState>) -> CmdResult<()> {
    *state.session() = None;
    state.set_unlocked(None);
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn current_user(state: State<'_, AppState>) -> CmdResult<Option<SessionUser>> {
    Ok(state.session().clone())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_cases(
    app: AppHandle,
    state: State<'_, AppState>,
    query: CaseQuery,
) -> CmdResult<Page<CaseRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.list_cases(&user, &query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_case(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<CaseDetail> {
    let user = current(&state)?;
    // Opening a case is a read a sealed record logs (L-12).
    with_store(&app, move |s| s.read_case(&user, &id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_case(
    app: AppHandle,
    state: State<'_, AppState>,
    input: CaseInput,
) -> CmdResult<CaseRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.save_case(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn delete_case(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<CaseRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.delete_case(&user, &id)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn restore_case(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<CaseRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.restore_case(&user, &id)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_checkin(
    app: AppHandle,
    state: State<'_, AppState>,
    input: CheckinInput,
) -> CmdResult<CheckinRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.add_checkin(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_entry(
    app: AppHandle,
    state: State<'_, AppState>,
    input: EntryInput,
) -> CmdResult<EntryRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.add_entry(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn request_leave(
    app: AppHandle,
    state: State<'_, AppState>,
    input: LeaveInput,
) -> CmdResult<LeaveRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.request_leave(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn decide_leave(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    decision: LeaveDecision,
    note: String,
) -> CmdResult<LeaveRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.decide_leave(&user, &id, decision, &note)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn record_leave_return(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    returned_on: String,
) -> CmdResult<LeaveRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| {
        s.record_leave_return(&user, &id, &returned_on)
    })
    .await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_assessment(
    app: AppHandle,
    state: State<'_, AppState>,
    input: AssessmentInput,
) -> CmdResult<AssessmentRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.add_assessment(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_residents(
    app: AppHandle,
    state: State<'_, AppState>,
    query: ResidentQuery,
) -> CmdResult<Page<ResidentRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.list_residents(&user, &query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_resident(
    app: AppHandle,
    state: State<'_, AppState>,
    input: ResidentInput,
) -> CmdResult<ResidentRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.save_resident(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_resident_deleted(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    deleted: bool,
) -> CmdResult<ResidentRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.set_resident_deleted(&user, &id, deleted)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_appeals(
    app: AppHandle,
    state: State<'_, AppState>,
    query: ResidentQuery,
) -> CmdResult<Page<AppealRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.list_appeals(&user, &query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn register_appeal(
    app: AppHandle,
    state: State<'_, AppState>,
    input: AppealInput,
) -> CmdResult<AppealRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.register_appeal(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn act_on_appeal(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    action: AppealAction,
) -> CmdResult<AppealRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.act_on_appeal(&user, &id, action)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn duplicate_suggestions(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<Vec<DuplicateSuggestion>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.duplicate_suggestions(&user)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn merge_residents(
    app: AppHandle,
    state: State<'_, AppState>,
    keep_id: String,
    merge_id: String,
) -> CmdResult<ResidentRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.merge_residents(&user, &keep_id, &merge_id)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn undo_resident_merge(
    app: AppHandle,
    state: State<'_, AppState>,
    merged_id: String,
) -> CmdResult<ResidentRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.undo_resident_merge(&user, &merged_id)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn task_digest(app: AppHandle, state: State<'_, AppState>) -> CmdResult<TaskDigest> {
    let user = current(&state)?;
    with_store(&app, move |s| s.task_digest(&user, None)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sync_status(app: AppHandle, state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    if state.unlocked().is_none() {
        return Ok(SyncStatus::while_locked());
    }
    with_store(&app, |s| s.sync_status()).await
}

/// "立即同步". On failure the store has already recorded the error in its status (shown in the
/// status bar); the UI also gets the error itself.
#[tauri::command(rename_all = "snake_case")]
pub async fn sync_now(app: AppHandle, state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    let outcome = sync_task::sync_once(&app, &state).await;
    sync_task::emit_status(&app);
    Ok(outcome?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_sync_interval(
    app: AppHandle,
    state: State<'_, AppState>,
    secs: u32,
) -> CmdResult<()> {
    with_store(&app, move |s| s.set_sync_interval(secs)).await?;
    state.sync_wake.notify_one();
    sync_task::emit_status(&app);
    Ok(())
}

/// The report date the UI sent (YYYY-MM-DD), or today in Asia/Shanghai when it sent none.
fn report_date(store: &Store, as_of: Option<&str>) -> Result<chrono::NaiveDate, CoreError> {
    match as_of.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => jiceng_core::shanghai::parse_date(text).ok_or_else(|| {
            CoreError::invalid(
                "as_of",
                "the report date must be YYYY-MM-DD",
                "统计日期格式应为YYYY-MM-DD",
            )
        }),
        None => Ok(jiceng_core::shanghai::today(store.corrected_wall_millis()?)),
    }
}

/// C-21 统计报表 as of a date (default today).
#[tauri::command(rename_all = "snake_case")]
pub async fn statistics(
    app: AppHandle,
    state: State<'_, AppState>,
    as_of: Option<String>,
) -> CmdResult<StatisticsReport> {
    let user = current(&state)?;
    with_store(&app, move |s| {
        let day = report_date(s, as_of.as_deref())?;
        s.statistics(&user, day)
    })
    .await
}

/// C-21 / D-4: writes the report as .xlsx to `path`, or else to the Downloads folder (the data dir when
/// there is none) without overwriting an earlier file; returns where it was written.
#[tauri::command(rename_all = "snake_case")]
pub async fn export_statistics(
    app: AppHandle,
    state: State<'_, AppState>,
    as_of: Option<String>,
    path: Option<String>,
) -> CmdResult<String> {
    let user = current(&state)?;
    let (day, bytes) = with_store(&app, move |s| {
        let day = report_date(s, as_of.as_deref())?;
        Ok((day, s.statistics_xlsx(&user, day)?))
    })
    .await?;
    let stem = format!("社区矫正统计报表_{}", day.format("%Y-%m-%d"));
    write_export(&app, &state, &stem, path, &bytes)
}

/// Where an export goes: `path` when the user chose one, or else the Downloads folder (the data
/// dir when there is none) as `<stem>.<ext>`, never over an earlier file.
pub(crate) fn export_target(
    app: &AppHandle,
    state: &AppState,
    stem: &str,
    ext: &str,
    path: Option<String>,
) -> std::path::PathBuf {
    match path.filter(|p| !p.trim().is_empty()) {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let dir = app
                .path()
                .download_dir()
                .ok()
                .filter(|d| d.is_dir())
                .unwrap_or_else(|| state.data_dir.clone());
            let mut candidate = dir.join(format!("{stem}.{ext}"));
            let mut n = 2;
            while candidate.exists() {
                candidate = dir.join(format!("{stem}({n}).{ext}"));
                n += 1;
            }
            candidate
        }
    }
}

/// The clerk's words for a file that could not be written.
pub(crate) fn export_failed(target: &std::path::Path, e: impl std::fmt::Display) -> UiError {
    eprintln!("[jiceng] export {}: {e}", target.display());
    UiError::new(
        "export_failed",
        format!(
            "无法写入文件 {}：{e}。请检查文件夹是否存在、是否有写入权限。",
            target.display()
        ),
    )
}

/// D-4: writes an exported workbook (see `export_target`); returns where it went.
fn write_export(
    app: &AppHandle,
    state: &AppState,
    stem: &str,
    path: Option<String>,
    bytes: &[u8],
) -> CmdResult<String> {
    let target = export_target(app, state, stem, "xlsx", path);
    std::fs::write(&target, bytes).map_err(|e| export_failed(&target, e))?;
    Ok(target.to_string_lossy().into_owned())
}

/// Issue 13 §4 (D-4): any list the screen shows (every page of its query), as .xlsx: to `path`, or
/// else to Downloads as `<title>_<today>.xlsx`; returns where it was written.
#[tauri::command(rename_all = "snake_case")]
pub async fn export_table(
    app: AppHandle,
    state: State<'_, AppState>,
    table: jiceng_core::table_export::ExportTable,
    path: Option<String>,
) -> CmdResult<String> {
    current(&state)?;
    let title = table.title.clone();
    let (day, bytes) = with_store(&app, move |s| {
        let day = report_date(s, None)?;
        let bytes = jiceng_core::table_export::write_table_xlsx(&table).map_err(|e| {
            jiceng_core::CoreError::invalid(
                "table",
                e.to_string(),
                "导出的表格过大或不完整，请缩小查询范围后重试",
            )
        })?;
        Ok((day, bytes))
    })
    .await?;
    let stem = jiceng_core::table_export::file_stem(&title, &day.format("%Y-%m-%d").to_string());
    write_export(&app, &state, &stem, path, &bytes)
}

// ---------------------------------------------------------------- W-3 people's mediation

#[tauri::command(rename_all = "snake_case")]
pub async fn list_mediations(
    app: AppHandle,
    state: State<'_, AppState>,
    query: CaseQuery,
) -> CmdResult<Page<MediationRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.list_mediations(&user, &query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_mediation(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> CmdResult<MediationRecord> {
    let user = current(&state)?;
    with_store(&app, move |s| s.mediation(&user, &id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_mediation(
    app: AppHandle,
    state: State<'_, AppState>,
    input: MediationInput,
) -> CmdResult<MediationRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.save_mediation(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_mediation_session(
    app: AppHandle,
    state: State<'_, AppState>,
    input: MediationSessionInput,
) -> CmdResult<MediationSession> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.add_mediation_session(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn act_on_mediation(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    action: MediationAction,
) -> CmdResult<MediationRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.act_on_mediation(&user, &id, action)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_mediation_deleted(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    deleted: bool,
) -> CmdResult<MediationRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.set_mediation_deleted(&user, &id, deleted)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

// ---------------------------------------------------------------- W-4 community-work admission

#[tauri::command(rename_all = "snake_case")]
pub async fn list_admissions(
    app: AppHandle,
    state: State<'_, AppState>,
    query: CaseQuery,
) -> CmdResult<Page<AdmissionRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.list_admissions(&user, &query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn register_admission(
    app: AppHandle,
    state: State<'_, AppState>,
    input: AdmissionInput,
) -> CmdResult<AdmissionRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.register_admission(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn decide_admission(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    decision: AdmissionDecision,
) -> CmdResult<AdmissionRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.decide_admission(&user, &id, decision)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_admission_deleted(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    deleted: bool,
) -> CmdResult<AdmissionRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.set_admission_deleted(&user, &id, deleted)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

// ---------------------------------------------------------------- W-5 volunteers and building leaders

#[tauri::command(rename_all = "snake_case")]
pub async fn list_volunteers(
    app: AppHandle,
    state: State<'_, AppState>,
    query: CaseQuery,
) -> CmdResult<Page<VolunteerRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.list_volunteers(&user, &query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_volunteer(
    app: AppHandle,
    state: State<'_, AppState>,
    input: VolunteerInput,
) -> CmdResult<VolunteerRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.save_volunteer(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_volunteer_deleted(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    deleted: bool,
) -> CmdResult<VolunteerRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.set_volunteer_deleted(&user, &id, deleted)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_volunteer_service(
    app: AppHandle,
    state: State<'_, AppState>,
    input: ServiceInput,
) -> CmdResult<ServiceRecord> {
    let user = current(&state)?;
    let rec = with_store(&app, move |s| s.add_volunteer_service(&user, input)).await?;
    sync_task::emit_status(&app);
    Ok(rec)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn volunteer_services(
    app: AppHandle,
    state: State<'_, AppState>,
    volunteer_id: String,
) -> CmdResult<Vec<ServiceRecord>> {
    let user = current(&state)?;
    with_store(&app, move |s| s.volunteer_services(&user, &volunteer_id)).await
}

/// W-5 recognition list and reward fund of a calendar year (None = this year in Asia/Shanghai).
#[tauri::command(rename_all = "snake_case")]
pub async fn volunteer_year(
    app: AppHandle,
    state: State<'_, AppState>,
    year: Option<i32>,
) -> CmdResult<VolunteerYear> {
    let user = current(&state)?;
    with_store(&app, move |s| s.volunteer_year(&user, year)).await
}
