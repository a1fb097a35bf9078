// Generated from src-tauri/src/commands*.rs by tests/tests/command_layer.rs: do not edit.
// `cargo test -p jiceng-tests --test command_layer` regenerates it.
import { call } from "./invoke";
import type { AccountState } from "./bindings/AccountState";
import type { AdminDirectory } from "./bindings/AdminDirectory";
import type { AdminOutcome } from "./bindings/AdminOutcome";
import type { AdminRequest } from "./bindings/AdminRequest";
import type { AdmissionDecision } from "./bindings/AdmissionDecision";
import type { AdmissionInput } from "./bindings/AdmissionInput";
import type { AdmissionRecord } from "./bindings/AdmissionRecord";
import type { AppInfo } from "./bindings/AppInfo";
import type { AppealAction } from "./bindings/AppealAction";
import type { AppealDetail } from "./bindings/AppealDetail";
import type { AppealInput } from "./bindings/AppealInput";
import type { AppealRecord } from "./bindings/AppealRecord";
import type { AssessmentInput } from "./bindings/AssessmentInput";
import type { AssessmentOpinion } from "./bindings/AssessmentOpinion";
import type { AssessmentRecord } from "./bindings/AssessmentRecord";
import type { BackupFile } from "./bindings/BackupFile";
import type { BundleExport } from "./bindings/BundleExport";
import type { BundleReceipt } from "./bindings/BundleReceipt";
import type { Capabilities } from "./bindings/Capabilities";
import type { CaseDetail } from "./bindings/CaseDetail";
import type { CaseInput } from "./bindings/CaseInput";
import type { CaseKind } from "./bindings/CaseKind";
import type { CasePlan } from "./bindings/CasePlan";
import type { CasePlanInput } from "./bindings/CasePlanInput";
import type { CaseQuery } from "./bindings/CaseQuery";
import type { CaseRecord } from "./bindings/CaseRecord";
import type { CheckinInput } from "./bindings/CheckinInput";
import type { CheckinRecord } from "./bindings/CheckinRecord";
import type { CommunityFundSummary } from "./bindings/CommunityFundSummary";
import type { ConflictChoice } from "./bindings/ConflictChoice";
import type { ConflictReview } from "./bindings/ConflictReview";
import type { Consolidation } from "./bindings/Consolidation";
import type { Dashboard } from "./bindings/Dashboard";
import type { DeadlineSettings } from "./bindings/DeadlineSettings";
import type { DocumentInput } from "./bindings/DocumentInput";
import type { DocumentRecord } from "./bindings/DocumentRecord";
import type { DuplicateSuggestion } from "./bindings/DuplicateSuggestion";
import type { EntryInput } from "./bindings/EntryInput";
import type { EntryRecord } from "./bindings/EntryRecord";
import type { ExportTable } from "./bindings/ExportTable";
import type { FieldChange } from "./bindings/FieldChange";
import type { FundEntryInput } from "./bindings/FundEntryInput";
import type { FundEntryRecord } from "./bindings/FundEntryRecord";
import type { FundQuery } from "./bindings/FundQuery";
import type { InvestigationInput } from "./bindings/InvestigationInput";
import type { InvestigationQuery } from "./bindings/InvestigationQuery";
import type { InvestigationRecord } from "./bindings/InvestigationRecord";
import type { LeaveDecision } from "./bindings/LeaveDecision";
import type { LeaveInput } from "./bindings/LeaveInput";
import type { LeaveRecord } from "./bindings/LeaveRecord";
import type { LocationEvent } from "./bindings/LocationEvent";
import type { LocationEventInput } from "./bindings/LocationEventInput";
import type { LocationPeriod } from "./bindings/LocationPeriod";
import type { LocationPeriodInput } from "./bindings/LocationPeriodInput";
import type { MediationAction } from "./bindings/MediationAction";
import type { MediationInput } from "./bindings/MediationInput";
import type { MediationRecord } from "./bindings/MediationRecord";
import type { MediationSession } from "./bindings/MediationSession";
import type { MediationSessionInput } from "./bindings/MediationSessionInput";
import type { MeetingInput } from "./bindings/MeetingInput";
import type { MeetingRecord } from "./bindings/MeetingRecord";
import type { OrgUnitRef } from "./bindings/OrgUnitRef";
import type { Page } from "./bindings/Page";
import type { PersonHit } from "./bindings/PersonHit";
import type { PersonInput } from "./bindings/PersonInput";
import type { PersonProfile } from "./bindings/PersonProfile";
import type { PersonRecord } from "./bindings/PersonRecord";
import type { PriorityGroup } from "./bindings/PriorityGroup";
import type { QuarantinedWrite } from "./bindings/QuarantinedWrite";
import type { RecommendationInput } from "./bindings/RecommendationInput";
import type { RecommendationRecord } from "./bindings/RecommendationRecord";
import type { RelayOutcome } from "./bindings/RelayOutcome";
import type { ResidentInput } from "./bindings/ResidentInput";
import type { ResidentQuery } from "./bindings/ResidentQuery";
import type { ResidentRecord } from "./bindings/ResidentRecord";
import type { RoutingSlip } from "./bindings/RoutingSlip";
import type { ServiceInput } from "./bindings/ServiceInput";
import type { ServiceRecord } from "./bindings/ServiceRecord";
import type { SessionUser } from "./bindings/SessionUser";
import type { SiteSummary } from "./bindings/SiteSummary";
import type { StatisticsReport } from "./bindings/StatisticsReport";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { TaskDigest } from "./bindings/TaskDigest";
import type { TransferInput } from "./bindings/TransferInput";
import type { TransferRecord } from "./bindings/TransferRecord";
import type { TransferStep } from "./bindings/TransferStep";
import type { UnitAccount } from "./bindings/UnitAccount";
import type { UsbTarget } from "./bindings/UsbTarget";
import type { VolunteerInput } from "./bindings/VolunteerInput";
import type { VolunteerRecord } from "./bindings/VolunteerRecord";
import type { VolunteerYear } from "./bindings/VolunteerYear";

/** Every command of the desktop shell, typed from its Rust signature. */
export const commands = {
  appInfo: () => call<AppInfo>("app_info"),
  enrol: (server_url: string, code: string, allow_plain_http: boolean | null) => call<AppInfo>("enrol", { server_url, code, allow_plain_http }),
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
  requestLeave: (input: LeaveInput) => call<LeaveRecord>("request_leave", { input }),
  decideLeave: (id: string, decision: LeaveDecision, note: string) => call<LeaveRecord>("decide_leave", { id, decision, note }),
  recordLeaveReturn: (id: string, returned_on: string) => call<LeaveRecord>("record_leave_return", { id, returned_on }),
  addAssessment: (input: AssessmentInput) => call<AssessmentRecord>("add_assessment", { input }),
  listResidents: (query: ResidentQuery) => call<Page<ResidentRecord>>("list_residents", { query }),
  saveResident: (input: ResidentInput) => call<ResidentRecord>("save_resident", { input }),
  setResidentDeleted: (id: string, deleted: boolean) => call<ResidentRecord>("set_resident_deleted", { id, deleted }),
  listAppeals: (query: ResidentQuery) => call<Page<AppealRecord>>("list_appeals", { query }),
  registerAppeal: (input: AppealInput) => call<AppealRecord>("register_appeal", { input }),
  actOnAppeal: (id: string, action: AppealAction) => call<AppealRecord>("act_on_appeal", { id, action }),
  duplicateSuggestions: () => call<DuplicateSuggestion[]>("duplicate_suggestions"),
  mergeResidents: (keep_id: string, merge_id: string) => call<ResidentRecord>("merge_residents", { keep_id, merge_id }),
  undoResidentMerge: (merged_id: string) => call<ResidentRecord>("undo_resident_merge", { merged_id }),
  taskDigest: () => call<TaskDigest>("task_digest"),
  syncStatus: () => call<SyncStatus>("sync_status"),
  syncNow: () => call<SyncStatus>("sync_now"),
  setSyncInterval: (secs: number) => call<void>("set_sync_interval", { secs }),
  statistics: (as_of: string | null) => call<StatisticsReport>("statistics", { as_of }),
  exportStatistics: (as_of: string | null, path: string | null) => call<string>("export_statistics", { as_of, path }),
  exportTable: (table: ExportTable, path: string | null) => call<string>("export_table", { table, path }),
  listMediations: (query: CaseQuery) => call<Page<MediationRecord>>("list_mediations", { query }),
  getMediation: (id: string) => call<MediationRecord>("get_mediation", { id }),
  saveMediation: (input: MediationInput) => call<MediationRecord>("save_mediation", { input }),
  addMediationSession: (input: MediationSessionInput) => call<MediationSession>("add_mediation_session", { input }),
  actOnMediation: (id: string, action: MediationAction) => call<MediationRecord>("act_on_mediation", { id, action }),
  setMediationDeleted: (id: string, deleted: boolean) => call<MediationRecord>("set_mediation_deleted", { id, deleted }),
  listAdmissions: (query: CaseQuery) => call<Page<AdmissionRecord>>("list_admissions", { query }),
  registerAdmission: (input: AdmissionInput) => call<AdmissionRecord>("register_admission", { input }),
  decideAdmission: (id: string, decision: AdmissionDecision) => call<AdmissionRecord>("decide_admission", { id, decision }),
  setAdmissionDeleted: (id: string, deleted: boolean) => call<AdmissionRecord>("set_admission_deleted", { id, deleted }),
  listVolunteers: (query: CaseQuery) => call<Page<VolunteerRecord>>("list_volunteers", { query }),
  saveVolunteer: (input: VolunteerInput) => call<VolunteerRecord>("save_volunteer", { input }),
  setVolunteerDeleted: (id: string, deleted: boolean) => call<VolunteerRecord>("set_volunteer_deleted", { id, deleted }),
  addVolunteerService: (input: ServiceInput) => call<ServiceRecord>("add_volunteer_service", { input }),
  volunteerServices: (volunteer_id: string) => call<ServiceRecord[]>("volunteer_services", { volunteer_id }),
  volunteerYear: (year: number | null) => call<VolunteerYear>("volunteer_year", { year }),
  accountState: () => call<AccountState>("account_state"),
  capabilities: () => call<Capabilities>("capabilities"),
  changePassword: (current_password: string, new_password: string) => call<void>("change_password", { current_password, new_password }),
  unitAccounts: () => call<UnitAccount[]>("unit_accounts"),
  resetPassword: (user_id: string, temporary: string) => call<void>("reset_password", { user_id, temporary }),
  unlockScreen: (password: string) => call<void>("unlock_screen", { password }),
  backupStore: () => call<BackupFile>("backup_store"),
  listBackups: () => call<BackupFile[]>("list_backups"),
  restoreStore: (name: string) => call<void>("restore_store", { name }),
  savePerson: (input: PersonInput) => call<PersonRecord>("save_person", { input }),
  setPersonDeleted: (id: string, deleted: boolean) => call<void>("set_person_deleted", { id, deleted }),
  savePlan: (input: CasePlanInput) => call<CasePlan>("save_plan", { input }),
  saveDocument: (input: DocumentInput) => call<DocumentRecord>("save_document", { input }),
  setDocumentDeleted: (id: string, deleted: boolean) => call<void>("set_document_deleted", { id, deleted }),
  recordHistory: (table: string, id: string) => call<FieldChange[]>("record_history", { table, id }),
  saveLocationPeriod: (input: LocationPeriodInput) => call<LocationPeriod>("save_location_period", { input }),
  endLocationPeriod: (id: string, ended_on: string, reason: string) => call<LocationPeriod>("end_location_period", { id, ended_on, reason }),
  addLocationEvent: (input: LocationEventInput) => call<LocationEvent>("add_location_event", { input }),
  applyTransfer: (input: TransferInput) => call<TransferRecord>("apply_transfer", { input }),
  actOnTransfer: (id: string, step: TransferStep) => call<TransferRecord>("act_on_transfer", { id, step }),
  judicialOffices: () => call<OrgUnitRef[]>("judicial_offices"),
  listInvestigations: (query: InvestigationQuery) => call<Page<InvestigationRecord>>("list_investigations", { query }),
  registerInvestigation: (input: InvestigationInput) => call<InvestigationRecord>("register_investigation", { input }),
  answerInvestigation: (id: string, opinion: AssessmentOpinion, opinion_on: string, summary: string) => call<InvestigationRecord>("answer_investigation", { id, opinion, opinion_on, summary }),
  withdrawInvestigation: (id: string, note: string) => call<InvestigationRecord>("withdraw_investigation", { id, note }),
  deadlineSettings: () => call<DeadlineSettings>("deadline_settings"),
  saveRuleTable: (json: string | null) => call<void>("save_rule_table", { json }),
  saveCalendar: (json: string | null) => call<void>("save_calendar", { json }),
  conflictReviews: (include_resolved: boolean, page: number, page_size: number) => call<Page<ConflictReview>>("conflict_reviews", { include_resolved, page, page_size }),
  resolveConflict: (id: string, choice: ConflictChoice, note: string) => call<ConflictReview>("resolve_conflict", { id, choice, note }),
  saveCaseKinds: (disabled: CaseKind[]) => call<void>("save_case_kinds", { disabled }),
  officeOfficers: () => call<OrgUnitRef[]>("office_officers"),
  assignOfficer: (case_id: string, officer_id: string | null) => call<CaseRecord>("assign_officer", { case_id, officer_id }),
  listRecommendations: (page: number, page_size: number) => call<Page<RecommendationRecord>>("list_recommendations", { page, page_size }),
  registerRecommendation: (input: RecommendationInput) => call<RecommendationRecord>("register_recommendation", { input }),
  replyRecommendation: (id: string, adopted: boolean, reply_on: string, reply_text: string) => call<RecommendationRecord>("reply_recommendation", { id, adopted, reply_on, reply_text }),
  setPriorityGroups: (case_id: string, groups: PriorityGroup[]) => call<CaseRecord>("set_priority_groups", { case_id, groups }),
  listMeetings: () => call<MeetingRecord[]>("list_meetings"),
  saveMeeting: (input: MeetingInput) => call<MeetingRecord>("save_meeting", { input }),
  dashboard: (from: string | null, to: string | null) => call<Dashboard>("dashboard", { from, to }),
  searchPeople: (query: CaseQuery) => call<Page<PersonHit>>("search_people", { query }),
  personProfile: (id_number: string) => call<PersonProfile>("person_profile", { id_number }),
  readAppeal: (id: string) => call<AppealDetail>("read_appeal", { id }),
  appealRoutingSlips: (id: string) => call<RoutingSlip[]>("appeal_routing_slips", { id }),
  recordFundEntry: (input: FundEntryInput) => call<FundEntryRecord>("record_fund_entry", { input }),
  setFundEntryDeleted: (id: string, deleted: boolean) => call<FundEntryRecord>("set_fund_entry_deleted", { id, deleted }),
  listFundEntries: (query: FundQuery) => call<Page<FundEntryRecord>>("list_fund_entries", { query }),
  fundSummaries: (year: number | null) => call<CommunityFundSummary[]>("fund_summaries", { year }),
  savePdf: (title: string, path: string | null) => call<string>("save_pdf", { title, path }),
  quarantinedWrites: () => call<QuarantinedWrite[]>("quarantined_writes"),
  quarantinedWritesOf: (table: string, row_id: string) => call<QuarantinedWrite[]>("quarantined_writes_of", { table, row_id }),
  decideQuarantine: (site_id: string, site_seq: number, decision: string, note: string) => call<SyncStatus>("decide_quarantine", { site_id, site_seq, decision, note }),
  listSites: () => call<SiteSummary[]>("list_sites"),
  revokeSite: (site_id: string, reason: string) => call<SiteSummary>("revoke_site", { site_id, reason }),
  latestConsolidation: () => call<Consolidation | null>("latest_consolidation"),
  adminDirectory: () => call<AdminDirectory>("admin_directory"),
  adminAction: (request: AdminRequest) => call<AdminOutcome>("admin_action", { request }),
  closeConsolidationDay: (day: string | null) => call<Consolidation>("close_consolidation_day", { day }),
  usbTargets: () => call<UsbTarget[]>("usb_targets"),
  exportSyncBundle: (dir: string) => call<BundleExport>("export_sync_bundle", { dir }),
  importSyncAnswer: (content: string) => call<BundleReceipt>("import_sync_answer", { content }),
  relaySyncBundle: (content: string, dir: string) => call<RelayOutcome>("relay_sync_bundle", { content, dir }),
};
