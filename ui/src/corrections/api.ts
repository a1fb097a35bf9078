// Typed wrappers around the corrections and district-settings commands (src-tauri/src/commands_corrections.rs).
import { invoke } from "@tauri-apps/api/core";
import { hasBackend, toUiError, type UiError } from "../api";
import { t } from "../i18n";
import type { CasePlan } from "../bindings/CasePlan";
import type { CasePlanInput } from "../bindings/CasePlanInput";
import type { DocumentInput } from "../bindings/DocumentInput";
import type { DocumentRecord } from "../bindings/DocumentRecord";
import type { FieldChange } from "../bindings/FieldChange";
import type { PersonInput } from "../bindings/PersonInput";
import type { PersonRecord } from "../bindings/PersonRecord";
import type { LocationEvent } from "../bindings/LocationEvent";
import type { LocationEventInput } from "../bindings/LocationEventInput";
import type { LocationPeriod } from "../bindings/LocationPeriod";
import type { LocationPeriodInput } from "../bindings/LocationPeriodInput";
import type { OrgUnitRef } from "../bindings/OrgUnitRef";
import type { Page } from "../bindings/Page";
import type { MeetingInput } from "../bindings/MeetingInput";
import type { MeetingRecord } from "../bindings/MeetingRecord";
import type { PriorityGroup } from "../bindings/PriorityGroup";
import type { RecommendationInput } from "../bindings/RecommendationInput";
import type { RecommendationRecord } from "../bindings/RecommendationRecord";
import type { CaseRecord } from "../bindings/CaseRecord";
import type { CaseKind } from "../bindings/CaseKind";
import type { ConflictChoice } from "../bindings/ConflictChoice";
import type { ConflictReview } from "../bindings/ConflictReview";
import type { QuarantinedWrite } from "../bindings/QuarantinedWrite";
import type { SyncStatus } from "../bindings/SyncStatus";
import type { DeadlineSettings } from "../bindings/DeadlineSettings";
import type { AssessmentOpinion } from "../bindings/AssessmentOpinion";
import type { InvestigationInput } from "../bindings/InvestigationInput";
import type { InvestigationQuery } from "../bindings/InvestigationQuery";
import type { InvestigationRecord } from "../bindings/InvestigationRecord";
import type { TransferInput } from "../bindings/TransferInput";
import type { TransferRecord } from "../bindings/TransferRecord";
import type { TransferStep } from "../bindings/TransferStep";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  if (!hasBackend()) throw { code: "no_backend", message: t("err_no_backend") } satisfies UiError;
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toUiError(e);
  }
}

/** Tables whose records show their own change history. */
export type HistoryTable = "corr_person" | "corr_plan" | "corr_document" | "corr_leave" | "corr_location_period";

export const caseFileApi = {
  savePerson: (input: PersonInput) => call<PersonRecord>("save_person", { input }),
  setPersonDeleted: (id: string, deleted: boolean) => call<void>("set_person_deleted", { id, deleted }),
  savePlan: (input: CasePlanInput) => call<CasePlan>("save_plan", { input }),
  saveDocument: (input: DocumentInput) => call<DocumentRecord>("save_document", { input }),
  setDocumentDeleted: (id: string, deleted: boolean) => call<void>("set_document_deleted", { id, deleted }),
  saveLocationPeriod: (input: LocationPeriodInput) => call<LocationPeriod>("save_location_period", { input }),
  endLocationPeriod: (id: string, ended_on: string, reason: string) =>
    call<LocationPeriod>("end_location_period", { id, ended_on, reason }),
  addLocationEvent: (input: LocationEventInput) => call<LocationEvent>("add_location_event", { input }),
  applyTransfer: (input: TransferInput) => call<TransferRecord>("apply_transfer", { input }),
  actOnTransfer: (id: string, step: TransferStep) => call<TransferRecord>("act_on_transfer", { id, step }),
  judicialOffices: () => call<OrgUnitRef[]>("judicial_offices"),
  listInvestigations: (query: InvestigationQuery) => call<Page<InvestigationRecord>>("list_investigations", { query }),
  registerInvestigation: (input: InvestigationInput) => call<InvestigationRecord>("register_investigation", { input }),
  answerInvestigation: (id: string, opinion: AssessmentOpinion, opinion_on: string, summary: string) =>
    call<InvestigationRecord>("answer_investigation", { id, opinion, opinion_on, summary }),
  withdrawInvestigation: (id: string, note: string) => call<InvestigationRecord>("withdraw_investigation", { id, note }),
  deadlineSettings: () => call<DeadlineSettings>("deadline_settings"),
  saveRuleTable: (json: string | null) => call<void>("save_rule_table", { json }),
  saveCalendar: (json: string | null) => call<void>("save_calendar", { json }),
  conflictReviews: (include_resolved: boolean, page: number, page_size: number) =>
    call<Page<ConflictReview>>("conflict_reviews", { include_resolved, page, page_size }),
  resolveConflict: (id: string, choice: ConflictChoice, note: string) => call<ConflictReview>("resolve_conflict", { id, choice, note }),
  quarantinedWrites: () => call<QuarantinedWrite[]>("quarantined_writes"),
  quarantinedWritesOf: (table: string, row_id: string) => call<QuarantinedWrite[]>("quarantined_writes_of", { table, row_id }),
  decideQuarantine: (site_id: string, site_seq: number, decision: "release" | "reject", note: string) =>
    call<SyncStatus>("decide_quarantine", { site_id, site_seq, decision, note }),
  saveCaseKinds: (disabled: CaseKind[]) => call<void>("save_case_kinds", { disabled }),
  officeOfficers: () => call<OrgUnitRef[]>("office_officers"),
  assignOfficer: (case_id: string, officer_id: string | null) => call<CaseRecord>("assign_officer", { case_id, officer_id }),
  listRecommendations: (page: number, page_size: number) => call<Page<RecommendationRecord>>("list_recommendations", { page, page_size }),
  registerRecommendation: (input: RecommendationInput) => call<RecommendationRecord>("register_recommendation", { input }),
  replyRecommendation: (id: string, adopted: boolean, reply_on: string, reply_text: string) =>
    call<RecommendationRecord>("reply_recommendation", { id, adopted, reply_on, reply_text }),
  setPriorityGroups: (case_id: string, groups: PriorityGroup[]) => call<CaseRecord>("set_priority_groups", { case_id, groups }),
  listMeetings: () => call<MeetingRecord[]>("list_meetings"),
  saveMeeting: (input: MeetingInput) => call<MeetingRecord>("save_meeting", { input }),
  recordHistory: (table: HistoryTable, id: string) => call<FieldChange[]>("record_history", { table, id }),
};
