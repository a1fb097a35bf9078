// Typed wrappers around the desktop shell's commands (src-tauri/src/commands.rs).
// The UI talks to nothing else: no network, no SQLite.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { ElMessage } from "element-plus";
import type { AppInfo } from "./bindings/AppInfo";
import type { SessionUser } from "./bindings/SessionUser";
import type { CaseQuery } from "./bindings/CaseQuery";
import type { Page } from "./bindings/Page";
import type { CaseRecord } from "./bindings/CaseRecord";
import type { CaseInput } from "./bindings/CaseInput";
import type { CaseDetail } from "./bindings/CaseDetail";
import type { CheckinInput } from "./bindings/CheckinInput";
import type { CheckinRecord } from "./bindings/CheckinRecord";
import type { EntryInput } from "./bindings/EntryInput";
import type { EntryRecord } from "./bindings/EntryRecord";
import type { TaskDigest } from "./bindings/TaskDigest";
import type { DuplicateSuggestion } from "./bindings/DuplicateSuggestion";
import type { AppealAction } from "./bindings/AppealAction";
import type { AppealInput } from "./bindings/AppealInput";
import type { AppealRecord } from "./bindings/AppealRecord";
import type { ResidentInput } from "./bindings/ResidentInput";
import type { ResidentQuery } from "./bindings/ResidentQuery";
import type { ResidentRecord } from "./bindings/ResidentRecord";
import type { LeaveInput } from "./bindings/LeaveInput";
import type { LeaveRecord } from "./bindings/LeaveRecord";
import type { LeaveDecision } from "./bindings/LeaveDecision";
import type { AssessmentInput } from "./bindings/AssessmentInput";
import type { AssessmentRecord } from "./bindings/AssessmentRecord";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { SiteSummary } from "./bindings/SiteSummary";
import type { AccountState } from "./bindings/AccountState";
import type { UnitAccount } from "./bindings/UnitAccount";
import type { AppealDetail } from "./bindings/AppealDetail";
import type { Capabilities } from "./bindings/Capabilities";
import type { BundleExport } from "./bindings/BundleExport";
import type { BundleReceipt } from "./bindings/BundleReceipt";
import type { RelayOutcome } from "./bindings/RelayOutcome";
import type { UsbTarget } from "./bindings/UsbTarget";
import type { BackupFile } from "./bindings/BackupFile";
import type { StatisticsReport } from "./bindings/StatisticsReport";
import type { MediationRecord } from "./bindings/MediationRecord";
import type { MediationInput } from "./bindings/MediationInput";
import type { MediationAction } from "./bindings/MediationAction";
import type { MediationSession } from "./bindings/MediationSession";
import type { MediationSessionInput } from "./bindings/MediationSessionInput";
import type { AdmissionRecord } from "./bindings/AdmissionRecord";
import type { AdmissionInput } from "./bindings/AdmissionInput";
import type { AdmissionDecision } from "./bindings/AdmissionDecision";
import type { VolunteerRecord } from "./bindings/VolunteerRecord";
import type { VolunteerInput } from "./bindings/VolunteerInput";
import type { ServiceInput } from "./bindings/ServiceInput";
import type { ServiceRecord } from "./bindings/ServiceRecord";
import type { VolunteerYear } from "./bindings/VolunteerYear";
import type { PersonHit } from "./bindings/PersonHit";
import type { PersonProfile } from "./bindings/PersonProfile";
import type { RoutingSlip } from "./bindings/RoutingSlip";
import type { FundEntryInput } from "./bindings/FundEntryInput";
import type { FundEntryRecord } from "./bindings/FundEntryRecord";
import type { FundQuery } from "./bindings/FundQuery";
import type { CommunityFundSummary } from "./bindings/CommunityFundSummary";
import { t } from "./i18n";

/** What every failing command returns: a machine code and a zh-CN message for people. */
export type UiError = { code: string; message: string };

export function hasBackend(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

// For forms that show the message next to the fields: no toast on top of it.
export function toUiError(e: unknown): UiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const o = e as { code: unknown; message: unknown };
    return { code: String(o.code), message: String(o.message) };
  }
  if (typeof e === "string") return { code: "error", message: e };
  if (e instanceof Error) return { code: "error", message: e.message };
  return { code: "unknown", message: t("err_unknown") };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  if (!hasBackend()) throw { code: "no_backend", message: t("err_no_backend") } satisfies UiError;
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toUiError(e);
  }
}

/** Show a failed command to the user (zh-CN message from core) and return it for inline display. */
export function showError(e: unknown): UiError {
  const err = toUiError(e);
  ElMessage({ type: "error", message: err.message, duration: 5000, customClass: "jc-error-message" });
  return err;
}

// Commands take snake_case argument names (the shell declares rename_all = "snake_case").
export const api = {
  appInfo: () => call<AppInfo>("app_info"),
  enrol: (server_url: string, code: string, allow_plain_http = false) =>
    call<AppInfo>("enrol", { server_url, code, allow_plain_http }),
  login: (username: string, password: string) => call<SessionUser>("login", { username, password }),
  unlockWithRecoveryCode: (recovery_code: string) => call<AppInfo>("unlock_with_recovery_code", { recovery_code }),
  logout: () => call<void>("logout"),
  currentUser: () => call<SessionUser | null>("current_user"),
  listCases: (query: CaseQuery) => call<Page<CaseRecord>>("list_cases", { query }),
  getCase: (id: string) => call<CaseDetail>("get_case", { id }),
  saveCase: (input: CaseInput) => call<CaseRecord>("save_case", { input }),
  deleteCase: (id: string) => call<CaseRecord>("delete_case", { id }),
  restoreCase: (id: string) => call<CaseRecord>("restore_case", { id }),
  addCheckin: (input: CheckinInput) => call<CheckinRecord>("add_checkin", { input }),
  addEntry: (input: EntryInput) => call<EntryRecord>("add_entry", { input }),
  taskDigest: () => call<TaskDigest>("task_digest"),
  duplicateSuggestions: () => call<DuplicateSuggestion[]>("duplicate_suggestions"),
  mergeResidents: (keep_id: string, merge_id: string) => call<ResidentRecord>("merge_residents", { keep_id, merge_id }),
  undoResidentMerge: (merged_id: string) => call<ResidentRecord>("undo_resident_merge", { merged_id }),
  listAppeals: (query: ResidentQuery) => call<Page<AppealRecord>>("list_appeals", { query }),
  registerAppeal: (input: AppealInput) => call<AppealRecord>("register_appeal", { input }),
  actOnAppeal: (id: string, action: AppealAction) => call<AppealRecord>("act_on_appeal", { id, action }),
  listResidents: (query: ResidentQuery) => call<Page<ResidentRecord>>("list_residents", { query }),
  saveResident: (input: ResidentInput) => call<ResidentRecord>("save_resident", { input }),
  setResidentDeleted: (id: string, deleted: boolean) => call<ResidentRecord>("set_resident_deleted", { id, deleted }),
  requestLeave: (input: LeaveInput) => call<LeaveRecord>("request_leave", { input }),
  decideLeave: (id: string, decision: LeaveDecision, note: string) =>
    call<LeaveRecord>("decide_leave", { id, decision, note }),
  recordLeaveReturn: (id: string, returned_on: string) => call<LeaveRecord>("record_leave_return", { id, returned_on }),
  addAssessment: (input: AssessmentInput) => call<AssessmentRecord>("add_assessment", { input }),
  syncStatus: () => call<SyncStatus>("sync_status"),
  syncNow: () => call<SyncStatus>("sync_now"),
  setSyncInterval: (secs: number) => call<void>("set_sync_interval", { secs }),
  backupStore: () => call<BackupFile>("backup_store"),
  listBackups: () => call<BackupFile[]>("list_backups"),
  restoreStore: (name: string) => call<void>("restore_store", { name }),
  // Issue 11 §4: accounts.
  accountState: () => call<AccountState>("account_state"),
  /** Issue 11 §5: what the signed-in user may do (core's permission matrix). */
  capabilities: () => call<Capabilities>("capabilities"),
  changePassword: (current_password: string, new_password: string) =>
    call<void>("change_password", { current_password, new_password }),
  unitAccounts: () => call<UnitAccount[]>("unit_accounts"),
  resetPassword: (user_id: string, temporary: string) => call<void>("reset_password", { user_id, temporary }),
  unlockScreen: (password: string) => call<void>("unlock_screen", { password }),
  // Issue 11 §3: the district's sites.
  listSites: () => call<SiteSummary[]>("list_sites"),
  revokeSite: (site_id: string, reason: string) => call<SiteSummary>("revoke_site", { site_id, reason }),
  // Issue 10 §7: sync by USB stick.
  usbTargets: () => call<UsbTarget[]>("usb_targets"),
  exportSyncBundle: (dir: string) => call<BundleExport>("export_sync_bundle", { dir }),
  importSyncAnswer: (content: string) => call<BundleReceipt>("import_sync_answer", { content }),
  relaySyncBundle: (content: string, dir: string) => call<RelayOutcome>("relay_sync_bundle", { content, dir }),
  /** C-21 report as of a date (YYYY-MM-DD; null = today in Asia/Shanghai). */
  statistics: (as_of: string | null) => call<StatisticsReport>("statistics", { as_of }),
  /** Writes the .xlsx (to `path`, else the Downloads folder) and returns where it went. */
  exportStatistics: (as_of: string | null, path: string | null = null) =>
    call<string>("export_statistics", { as_of, path }),
  // W-3 people's mediation
  listMediations: (query: CaseQuery) => call<Page<MediationRecord>>("list_mediations", { query }),
  getMediation: (id: string) => call<MediationRecord>("get_mediation", { id }),
  saveMediation: (input: MediationInput) => call<MediationRecord>("save_mediation", { input }),
  addMediationSession: (input: MediationSessionInput) => call<MediationSession>("add_mediation_session", { input }),
  actOnMediation: (id: string, action: MediationAction) => call<MediationRecord>("act_on_mediation", { id, action }),
  setMediationDeleted: (id: string, deleted: boolean) => call<MediationRecord>("set_mediation_deleted", { id, deleted }),
  // W-4 community-work admission
  listAdmissions: (query: CaseQuery) => call<Page<AdmissionRecord>>("list_admissions", { query }),
  registerAdmission: (input: AdmissionInput) => call<AdmissionRecord>("register_admission", { input }),
  decideAdmission: (id: string, decision: AdmissionDecision) => call<AdmissionRecord>("decide_admission", { id, decision }),
  setAdmissionDeleted: (id: string, deleted: boolean) => call<AdmissionRecord>("set_admission_deleted", { id, deleted }),
  // W-5 volunteers and building leaders
  listVolunteers: (query: CaseQuery) => call<Page<VolunteerRecord>>("list_volunteers", { query }),
  saveVolunteer: (input: VolunteerInput) => call<VolunteerRecord>("save_volunteer", { input }),
  setVolunteerDeleted: (id: string, deleted: boolean) => call<VolunteerRecord>("set_volunteer_deleted", { id, deleted }),
  addVolunteerService: (input: ServiceInput) => call<ServiceRecord>("add_volunteer_service", { input }),
  volunteerServices: (volunteer_id: string) => call<ServiceRecord[]>("volunteer_services", { volunteer_id }),
  /** W-5 recognition list and reward fund of a calendar year (null = this year, Asia/Shanghai). */
  volunteerYear: (year: number | null) => call<VolunteerYear>("volunteer_year", { year }),
  // 一人一档: one person across the domains this role may see (core decides which)
  searchPeople: (query: CaseQuery) => call<Page<PersonHit>>("search_people", { query }),
  personProfile: (id_number: string) => call<PersonProfile>("person_profile", { id_number }),
  // W-2 转办单 (the complained-about department's slip is masked by core)
  appealRoutingSlips: (id: string) => call<RoutingSlip[]>("appeal_routing_slips", { id }),
  /** Opens an appeal; reads of a whistle-blower's appeal are logged (issue 11 §6). */
  readAppeal: (id: string) => call<AppealDetail>("read_appeal", { id }),
  // W-6 community funds
  recordFundEntry: (input: FundEntryInput) => call<FundEntryRecord>("record_fund_entry", { input }),
  setFundEntryDeleted: (id: string, deleted: boolean) => call<FundEntryRecord>("set_fund_entry_deleted", { id, deleted }),
  listFundEntries: (query: FundQuery) => call<Page<FundEntryRecord>>("list_fund_entries", { query }),
  fundSummaries: (year: number | null) => call<CommunityFundSummary[]>("fund_summaries", { year }),
};

/** The shell emits "sync-status" after every background or manual sync attempt. */
export async function onSyncStatus(cb: (s: SyncStatus) => void): Promise<UnlistenFn> {
  if (!hasBackend()) return () => {};
  return listen<SyncStatus>("sync-status", (ev) => cb(ev.payload));
}
