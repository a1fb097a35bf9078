// Words of the case file screens (people, plan and agreement, legal documents), zh-CN first.
// Kept apart from ../i18n.ts so the dictionary of each screen family stays small.
import { lang, type Lang } from "../i18n";
import type { DocumentStage } from "../bindings/DocumentStage";
import type { DocumentType } from "../bindings/DocumentType";
import type { GuarantorKind } from "../bindings/GuarantorKind";
import type { PersonRole } from "../bindings/PersonRole";
import type { TeamRole } from "../bindings/TeamRole";
import type { LocationGround } from "../bindings/LocationGround";
import type { LocationPeriodStatus } from "../bindings/LocationPeriodStatus";
import type { LocationEventKind } from "../bindings/LocationEventKind";
import type { TransferStatus } from "../bindings/TransferStatus";

const zh = {
  file_section: "档案：家庭成员、社会关系与矫正小组",
  file_checks_ok: "档案齐全",
  person_add: "添加人员",
  person_edit: "编辑人员",
  person_role: "类别",
  person_team_role: "小组身份",
  person_name: "姓名",
  person_sex: "性别",
  person_relation: "关系／称谓",
  person_phone: "电话",
  person_work_unit: "工作单位",
  person_note: "备注",
  person_saved: "人员已保存",
  person_removed: "已移出档案",
  person_remove: "移出",
  person_remove_confirm: "确定将此人移出档案吗？（可在修改历史中查到，不会丢失）",
  no_persons: "尚未登记人员",
  sex_male: "男",
  sex_female: "女",
  sex_unknown: "未填",
  plan_section: "矫正方案与监督管理协议",
  plan_edit: "编辑方案与协议",
  plan_text: "矫正方案",
  plan_made_on: "方案制定日期",
  plan_with_police: "与派出所共同制定",
  plan_agreement_on: "协议签订日期",
  plan_guarantor: "协议签订人",
  plan_guarantor_kind: "签订人身份",
  plan_saved: "方案与协议已保存",
  plan_none: "尚未制定",
  yes: "是",
  no: "否",
  doc_section: "法律文书",
  doc_add: "登记文书",
  doc_edit: "编辑文书",
  doc_type: "文书",
  doc_stage: "阶段",
  doc_dated_on: "日期",
  doc_time: "时间",
  doc_time_hint: "提请逮捕须填写时间（法院48小时内决定）",
  doc_no: "文号",
  doc_counterpart: "发文／送达单位",
  doc_note: "备注",
  doc_recorded_by: "登记人",
  doc_saved: "文书已登记",
  doc_removed: "文书已删除（可恢复）",
  doc_remove: "删除",
  doc_remove_confirm: "确定删除此文书登记吗？删除记录会保留在修改历史中。",
  no_documents: "尚未登记文书",
  history: "修改历史",
  history_title: "修改历史",
  edit: "编辑",
  save: "保存",
  cancel: "取消",
  required_date: "请选择日期",
  loc_section: "电子定位（L-7）",
  loc_add: "登记定位期限",
  loc_renew: "延长",
  loc_end: "解除",
  loc_ground: "适用情形",
  loc_approved_by: "批准人（县级司法行政机关负责人）",
  loc_approved_on: "批准日期",
  loc_start: "开始日期",
  loc_end_on: "结束日期",
  loc_period: "期限",
  loc_status: "状态",
  loc_ended: "解除日期与原因",
  loc_end_reason: "解除原因",
  loc_saved: "电子定位期限已登记",
  loc_ended_ok: "电子定位已解除",
  loc_hint: "每次不超过三个月，延长每次不超过三个月，自原期限届满次日起算",
  no_periods: "未使用电子定位",
  loc_events: "定位记录（仅保存在本司法所，不上传区局）",
  loc_event_add: "登记定位记录",
  loc_event_kind: "类型",
  loc_event_time: "时间",
  loc_event_place: "位置",
  loc_event_action: "处置",
  loc_event_saved: "定位记录已保存",
  no_events: "暂无定位记录",
  loc_period_pick: "所属期限",
  tr_section: "变更执行地（L-6）",
  tr_apply: "申请变更执行地",
  tr_destination: "新居住地（执行地）",
  tr_reason: "变更原因",
  tr_move_on: "拟搬迁日期",
  tr_apply_by: "应提前申请至",
  tr_late: "申请晚于一个月",
  tr_status: "状态",
  tr_to: "新执行地司法所",
  tr_from: "原执行地",
  tr_decided: "决定",
  tr_file_sent: "档案移交",
  tr_reported: "新执行地报到",
  tr_completed: "完成交接",
  tr_approve: "批准",
  tr_refuse: "不予批准",
  tr_cancel: "撤回",
  tr_confirm: "确认报到",
  tr_complete: "完成交接",
  tr_note: "意见",
  tr_on: "日期",
  tr_saved: "已办理",
  tr_none: "无变更执行地记录",
  tr_tag_in_transit: "交接中",
  tr_tag_applied: "申请变更执行地",
  tr_tag_out: "已转出",
  tr_readonly_in: "本案正在移交本所，交接完成前只能查看。",
  tr_readonly_out: "本案已变更执行地至{to}，本所只能查看。",
};

type Dict = typeof zh;

const en: Dict = {
  file_section: "Case file: family, relations and supervision team",
  file_checks_ok: "The file is complete",
  person_add: "Add person",
  person_edit: "Edit person",
  person_role: "Role",
  person_team_role: "Seat on team",
  person_name: "Name",
  person_sex: "Sex",
  person_relation: "Relation",
  person_phone: "Phone",
  person_work_unit: "Work unit",
  person_note: "Note",
  person_saved: "Person saved",
  person_removed: "Removed from the file",
  person_remove: "Remove",
  person_remove_confirm: "Remove this person from the file? (Reversible; kept in the history.)",
  no_persons: "Nobody recorded yet",
  sex_male: "Male",
  sex_female: "Female",
  sex_unknown: "Not given",
  plan_section: "Correction plan and supervision agreement",
  plan_edit: "Edit plan and agreement",
  plan_text: "Correction plan",
  plan_made_on: "Plan made on",
  plan_with_police: "Made with the police station",
  plan_agreement_on: "Agreement signed on",
  plan_guarantor: "Signed by",
  plan_guarantor_kind: "Signer's standing",
  plan_saved: "Plan and agreement saved",
  plan_none: "Not made yet",
  yes: "Yes",
  no: "No",
  doc_section: "Legal documents",
  doc_add: "Record document",
  doc_edit: "Edit document",
  doc_type: "Document",
  doc_stage: "Stage",
  doc_dated_on: "Date",
  doc_time: "Time",
  doc_time_hint: "An arrest request needs its time (the court decides within 48 h)",
  doc_no: "Number",
  doc_counterpart: "Issued by / sent to",
  doc_note: "Note",
  doc_recorded_by: "Recorded by",
  doc_saved: "Document recorded",
  doc_removed: "Document removed (reversible)",
  doc_remove: "Remove",
  doc_remove_confirm: "Remove this document entry? The removal stays in the history.",
  no_documents: "No documents yet",
  history: "History",
  history_title: "Change history",
  edit: "Edit",
  save: "Save",
  cancel: "Cancel",
  required_date: "Pick a date",
  loc_section: "Electronic location (L-7)",
  loc_add: "Record a period",
  loc_renew: "Renew",
  loc_end: "End",
  loc_ground: "Ground",
  loc_approved_by: "Approved by (county bureau head)",
  loc_approved_on: "Approved on",
  loc_start: "Start",
  loc_end_on: "End",
  loc_period: "Period",
  loc_status: "Status",
  loc_ended: "Ended on, reason",
  loc_end_reason: "Reason for ending",
  loc_saved: "Location period recorded",
  loc_ended_ok: "Electronic location ended",
  loc_hint: "At most 3 months each time; each renewal at most 3 months from the day after the old end",
  no_periods: "No electronic location",
  loc_events: "Location records (kept at this office only, never sent to the district)",
  loc_event_add: "Record location event",
  loc_event_kind: "Kind",
  loc_event_time: "Time",
  loc_event_place: "Place",
  loc_event_action: "Action taken",
  loc_event_saved: "Location record saved",
  no_events: "No location records",
  loc_period_pick: "Period",
  tr_section: "Change of place of execution (L-6)",
  tr_apply: "Apply for a transfer",
  tr_destination: "New residence (place of execution)",
  tr_reason: "Reason",
  tr_move_on: "Planned move",
  tr_apply_by: "Apply by",
  tr_late: "Applied less than a month ahead",
  tr_status: "Status",
  tr_to: "Receiving office",
  tr_from: "From",
  tr_decided: "Decision",
  tr_file_sent: "File sent",
  tr_reported: "Reported at new office",
  tr_completed: "Completed",
  tr_approve: "Approve",
  tr_refuse: "Refuse",
  tr_cancel: "Withdraw",
  tr_confirm: "Confirm report",
  tr_complete: "Complete handover",
  tr_note: "Note",
  tr_on: "Date",
  tr_saved: "Done",
  tr_none: "No transfer",
  tr_tag_in_transit: "In transfer",
  tr_tag_applied: "Transfer applied",
  tr_tag_out: "Transferred out",
  tr_readonly_in: "This case is being handed to this office: read-only until the handover completes.",
  tr_readonly_out: "This case was transferred to {to}: read-only here.",
};

export type CaseFileKey = keyof Dict;
const dicts: Record<Lang, Dict> = { zh, en };

export function tc(key: CaseFileKey, params?: Record<string, string>): string {
  let s: string = dicts[lang.value][key] ?? key;
  for (const [k, v] of Object.entries(params ?? {})) s = s.replace(`{${k}}`, v);
  return s;
}

export const PERSON_ROLES: PersonRole[] = ["family", "relation", "team_member", "volunteer"];
const personRoleLabels: Record<Lang, Record<PersonRole, string>> = {
  zh: { family: "家庭成员", relation: "社会关系", team_member: "矫正小组成员", volunteer: "志愿者" },
  en: { family: "Family member", relation: "Social relation", team_member: "Team member", volunteer: "Volunteer" },
};
export const personRoleLabel = (r: PersonRole) => personRoleLabels[lang.value][r] ?? r;

export const TEAM_ROLES: TeamRole[] = [
  "governance_head",
  "police_officer",
  "liaison_cadre",
  "local_responsible",
  "family_member",
  "other",
];
const teamRoleLabels: Record<Lang, Record<TeamRole, string>> = {
  zh: {
    governance_head: "综治负责人",
    police_officer: "片区民警",
    liaison_cadre: "联络干部",
    local_responsible: "村（居）或单位负责人",
    family_member: "家庭成员",
    other: "其他",
  },
  en: {
    governance_head: "Governance head",
    police_officer: "Area police officer",
    liaison_cadre: "Liaison cadre",
    local_responsible: "Village / employer representative",
    family_member: "Family member",
    other: "Other",
  },
};
export const teamRoleLabel = (r: TeamRole) => teamRoleLabels[lang.value][r] ?? r;

export const GUARANTOR_KINDS: GuarantorKind[] = ["direct_relative", "employer", "committee", "close_relative"];
const guarantorLabels: Record<Lang, Record<GuarantorKind, string>> = {
  zh: { direct_relative: "直系亲属", employer: "所在单位", committee: "村（居）委会", close_relative: "近亲属（自愿）" },
  en: { direct_relative: "Direct relative", employer: "Employer", committee: "Village / residents' committee", close_relative: "Close relative (willing)" },
};
export const guarantorLabel = (k: GuarantorKind) => guarantorLabels[lang.value][k] ?? k;

export const DOCUMENT_STAGES: DocumentStage[] = ["intake", "transfer", "revocation", "release", "termination", "other"];
const stageLabels: Record<Lang, Record<DocumentStage, string>> = {
  zh: { intake: "接收与入矫", transfer: "变更执行地", revocation: "撤销与收监", release: "解除", termination: "终止", other: "其他" },
  en: { intake: "Intake", transfer: "Transfer", revocation: "Revocation", release: "Release", termination: "Termination", other: "Other" },
};
export const stageLabel = (s: DocumentStage) => stageLabels[lang.value][s] ?? s;

/** Document types by stage, in the order the work happens (mirrors core::casefile::DocumentType::stage). */
export const DOCUMENTS_BY_STAGE: Record<DocumentStage, DocumentType[]> = {
  intake: [
    "judgment",
    "ruling",
    "temporary_execution_decision",
    "execution_notice",
    "prison_appraisal",
    "investigation_opinion",
    "intake_talk",
    "intake_announcement",
  ],
  transfer: ["transfer_decision", "file_handover"],
  revocation: [
    "revocation_proposal",
    "committal_proposal",
    "arrest_request",
    "arrest_ruling",
    "revocation_ruling",
    "committal_decision",
  ],
  release: [
    "self_appraisal",
    "review_meeting",
    "appraisal",
    "release_announcement",
    "release_certificate",
    "notice_court",
    "notice_procuratorate",
    "notice_police",
  ],
  termination: ["death_report", "termination_notice"],
  other: ["other"],
};

const documentLabels: Record<Lang, Record<DocumentType, string>> = {
  zh: {
    judgment: "判决书",
    ruling: "裁定书",
    temporary_execution_decision: "暂予监外执行决定书",
    execution_notice: "执行通知书",
    prison_appraisal: "出监（所）鉴定",
    investigation_opinion: "调查评估意见书",
    intake_talk: "报到教育谈话记录",
    intake_announcement: "入矫宣告",
    transfer_decision: "变更执行地决定书",
    file_handover: "档案移交",
    revocation_proposal: "撤销缓刑（假释）建议书",
    committal_proposal: "收监执行建议书",
    arrest_request: "提请逮捕",
    arrest_ruling: "逮捕决定",
    revocation_ruling: "撤销缓刑（假释）裁定书",
    committal_decision: "收监执行决定书",
    self_appraisal: "自我鉴定",
    review_meeting: "评议会记录",
    appraisal: "鉴定意见",
    release_announcement: "解除社区矫正宣告",
    release_certificate: "解除社区矫正证明书",
    notice_court: "通知决定机关",
    notice_procuratorate: "通知人民检察院",
    notice_police: "通知公安机关",
    death_report: "死亡通报",
    termination_notice: "终止社区矫正通知书",
    other: "其他文书",
  },
  en: {
    judgment: "Judgment",
    ruling: "Ruling",
    temporary_execution_decision: "Decision on temporary execution outside prison",
    execution_notice: "Execution notice",
    prison_appraisal: "Prison release appraisal",
    investigation_opinion: "Pre-decision assessment opinion",
    intake_talk: "Intake education talk",
    intake_announcement: "Intake announcement",
    transfer_decision: "Transfer decision",
    file_handover: "File handover",
    revocation_proposal: "Proposal to revoke probation / parole",
    committal_proposal: "Proposal to commit to prison",
    arrest_request: "Arrest request",
    arrest_ruling: "Arrest ruling",
    revocation_ruling: "Revocation ruling",
    committal_decision: "Committal decision",
    self_appraisal: "Self-appraisal",
    review_meeting: "Review meeting minutes",
    appraisal: "Appraisal",
    release_announcement: "Release announcement",
    release_certificate: "Release certificate",
    notice_court: "Notice to the deciding court",
    notice_procuratorate: "Notice to the procuratorate",
    notice_police: "Notice to the police",
    death_report: "Death report",
    termination_notice: "Termination notice",
    other: "Other document",
  },
};
export const documentLabel = (d: DocumentType) => documentLabels[lang.value][d] ?? d;

const fieldLabels: Record<Lang, Record<string, string>> = {
  zh: {
    role: "类别", team_role: "小组身份", name: "姓名", sex: "性别", relation: "关系", phone: "电话",
    work_unit: "工作单位", note: "备注", plan_text: "矫正方案", made_on: "制定日期", made_with_police: "与派出所共同制定",
    agreement_signed_on: "协议签订日期", guarantor_person_id: "协议签订人", guarantor_kind: "签订人身份",
    doc_type: "文书", doc_no: "文号", counterpart: "发文／送达单位", dated_on: "日期", time_of_day: "时间",
    recorded_by: "登记人", _deleted: "删除标记", case_id: "案件", org_unit_id: "所属单位",
  },
  en: {},
};
export const caseFileFieldLabel = (f: string) => fieldLabels[lang.value][f] ?? f;

export const LOCATION_GROUNDS: LocationGround[] = [
  "court_prohibition_breached",
  "left_without_approval",
  "warned_for_not_reporting",
  "public_security_penalty",
  "revocation_pending",
];
const groundLabels: Record<Lang, Record<LocationGround, string>> = {
  zh: {
    court_prohibition_breached: "违反人民法院禁止令",
    left_without_approval: "无正当理由未经批准离开所居住的市、县",
    warned_for_not_reporting: "拒不按规定报告活动情况被给予警告",
    public_security_penalty: "违反监督管理规定被给予治安管理处罚",
    revocation_pending: "拟提请撤销缓刑、假释或暂予监外执行收监执行",
  },
  en: {
    court_prohibition_breached: "Breached a court prohibition order",
    left_without_approval: "Left the city or county without approval",
    warned_for_not_reporting: "Warned for refusing to report activities",
    public_security_penalty: "Public-security penalty for breaching supervision rules",
    revocation_pending: "Revocation or committal about to be proposed",
  },
};
export const groundLabel = (g: LocationGround) => groundLabels[lang.value][g] ?? g;

const periodStatusLabels: Record<Lang, Record<LocationPeriodStatus, string>> = {
  zh: { approved: "已批准未开始", active: "使用中", lapsed: "已到期未处理", ended: "已解除", renewed: "已延长" },
  en: { approved: "Approved", active: "Active", lapsed: "Lapsed", ended: "Ended", renewed: "Renewed" },
};
export const periodStatusLabel = (s: LocationPeriodStatus) => periodStatusLabels[lang.value][s] ?? s;

export const LOCATION_EVENT_KINDS: LocationEventKind[] = ["out_of_zone", "signal_lost", "device_tampered", "check"];
const eventLabels: Record<Lang, Record<LocationEventKind, string>> = {
  zh: { out_of_zone: "越界报警", signal_lost: "关机或信号中断", device_tampered: "设备拆除或损坏", check: "定位核查" },
  en: { out_of_zone: "Out of zone", signal_lost: "Signal lost", device_tampered: "Device tampered", check: "Check" },
};
export const eventLabel = (k: LocationEventKind) => eventLabels[lang.value][k] ?? k;

const transferStatusLabels: Record<Lang, Record<TransferStatus, string>> = {
  zh: { applied: "已申请", in_transit: "交接中", received: "已报到，待完成交接", completed: "交接完成", refused: "不予批准", cancelled: "已撤回" },
  en: { applied: "Applied", in_transit: "In transfer", received: "Reported, awaiting completion", completed: "Completed", refused: "Refused", cancelled: "Withdrawn" },
};
export const transferStatusLabel = (s: TransferStatus) => transferStatusLabels[lang.value][s] ?? s;
