// A small dictionary of our own: zh-CN first, English as a toggle (settings dialog).
import { ref, computed } from "vue";
import zhCn from "element-plus/es/locale/lang/zh-cn";
import en from "element-plus/es/locale/lang/en";
import type { CaseKind } from "./bindings/CaseKind";
import type { CaseStatus } from "./bindings/CaseStatus";
import type { CheckinMethod } from "./bindings/CheckinMethod";
import type { EntryKind } from "./bindings/EntryKind";
import type { Role } from "./bindings/Role";

export type Lang = "zh" | "en";

const zh = {
  app_name: "基层通",
  loading: "加载中…",
  ok: "确定",
  cancel: "取消",
  save: "保存",
  close: "关闭",
  back: "返回",
  // enrolment
  enrol_title: "首次使用：注册本机",
  enrol_hint: "请输入区司法局提供的服务器地址和注册码。注册后本机可离线工作。",
  enrol_server: "服务器地址",
  enrol_server_placeholder: "例如 http://192.168.1.10:8443",
  enrol_code: "注册码",
  enrol_submit: "注册",
  enrol_done: "注册成功",
  enrol_server_required: "请输入服务器地址",
  enrol_code_required: "请输入注册码",
  // login
  login_title: "登录",
  login_username: "用户名",
  login_password: "密码",
  login_submit: "登录",
  login_offline_hint: "离线登录：使用本机保存的账户信息",
  login_required: "请输入用户名和密码",
  logout: "退出",
  logout_confirm: "确定退出登录吗？",
  // header / menu
  menu_cases: "社区矫正对象",
  settings: "设置",
  // case list
  case_search_placeholder: "姓名 / 拼音首字母 / 身份证号",
  case_new: "新建",
  case_include_deleted: "显示已删除",
  col_name: "姓名",
  col_id_number: "身份证号",
  col_sex: "性别",
  col_kind: "类别",
  col_period: "矫正期限",
  col_status: "状态",
  col_org: "所属单位",
  col_flags: "标记",
  tag_pending: "待同步",
  tag_conflict: "冲突",
  tag_deleted: "已删除",
  empty_cases: "暂无数据",
  sex_male: "男",
  sex_female: "女",
  total_n: "共 {n} 条",
  // form
  form_new: "新建社区矫正对象",
  form_edit: "编辑社区矫正对象",
  form_name: "姓名",
  form_id_number: "身份证号",
  form_kind: "类别",
  form_start: "矫正开始日期",
  form_end: "矫正结束日期",
  form_status: "状态",
  form_date_placeholder: "YYYY-MM-DD",
  form_name_required: "请输入姓名",
  form_kind_required: "请选择类别",
  form_date_required: "请输入日期",
  idhint_length: "身份证号应为 18 位",
  idhint_chars: "前 17 位应为数字，最后一位为数字或 X",
  idhint_checksum: "身份证号校验位不正确，请核对",
  idhint_ok: "格式正确",
  form_saved: "已保存",
  // detail
  detail_title: "对象详情",
  edit: "编辑",
  delete: "删除",
  restore: "恢复",
  delete_confirm: "确定删除该对象吗？删除可以恢复。",
  restore_confirm: "确定恢复该对象吗？",
  deleted_ok: "已删除",
  restored_ok: "已恢复",
  birth_date: "出生日期",
  checkins: "报到记录",
  checkin_add: "新增报到",
  checkin_time: "报到时间",
  checkin_method: "方式",
  checkin_note: "备注",
  checkin_recorded_by: "记录人",
  checkin_saved: "报到已记录",
  history: "修改历史",
  history_field: "字段",
  history_value: "值",
  history_hlc: "时间戳 (HLC)",
  history_time: "修改时间",
  history_this_pc: "本机",
  history_site: "站点",
  history_user: "用户",
  conflicts: "待处理冲突",
  conflict_field: "字段",
  conflict_winner: "暂定值",
  conflict_other: "另一值",
  no_conflicts: "无冲突",
  no_checkins: "暂无报到记录",
  entries: "监管记录",
  menu_tasks: "今日待办",
  tasks_title: "待办与期限（{today}）",
  tasks_overdue: "已逾期",
  tasks_due_soon: "即将到期",
  tasks_due: "待办",
  tasks_case: "对象",
  tasks_rule: "规则",
  tasks_item: "事项",
  tasks_due_date: "期限",
  tasks_days_left: "剩余天数",
  tasks_none: "暂无待办事项",
  tasks_calendar_unknown: "该日期超出已知节假日安排，仅按周末计算",
  tasks_escalated: "已提醒：{role}",
  // C-21 statistics report
  menu_stats: "统计报表",
  stats_title: "社区矫正统计报表（截至{date}）",
  stats_unit_line: "填报单位：{unit}",
  stats_note: "按所选日期当日结束时的记录统计，此后的修改不改变该日的报表；已删除的不计。",
  stats_as_of: "统计日期",
  stats_export: "导出Excel",
  stats_exported: "已导出：{path}",
  stats_unit: "单位",
  stats_total: "合计",
  stats_by_kind: "一、按矫正类别（C-1）",
  stats_by_status: "二、按矫正状态",
  stats_by_level: "三、按管理等级（L-3，未结案对象）",
  stats_flows: "四、本月（{month}）及本年（自{year_start}起）变动",
  stats_month: "本月",
  stats_ytd: "本年",
  stats_flow_intake: "新接收",
  stats_flow_released: "解除",
  stats_flow_revoked: "撤销（收监）",
  stats_flow_terminated: "终止",
  stats_level_unset: "未定级",
  stats_compliance: "五、月度监管合规率（{month}月末在矫对象，C-10、C-11）",
  stats_rule: "规则",
  stats_met: "达标人数",
  stats_in_correction: "在矫人数",
  stats_rate: "合规率",
  stats_rule_c10: "社会公益劳动（C-10）",
  stats_rule_c11: "集中教育（C-11）",
  intake: "衔接与分类管理",
  form_judgment_effective: "判决（裁定）生效日期",
  form_reported_on: "报到日期",
  form_level: "管理等级",
  level_strict: "严管",
  level_normal: "普管",
  level_lenient: "宽管",
  entry_add: "新增记录",
  entry_kind: "类型",
  entry_date: "日期",
  entry_minutes: "时长（分钟）",
  entry_days: "失联天数",
  entry_ref: "对应的训诫/警告",
  entry_note: "说明",
  entry_saved: "记录已保存",
  no_entries: "暂无监管记录",
  compliance: "每月劳动与教育（C-10、C-11）",
  compliance_month: "月份",
  compliance_labour: "公益劳动",
  compliance_education: "集中教育",
  compliance_ok: "达标",
  compliance_short: "未达标",
  compliance_running: "本月进行中",
  discipline: "奖惩阶梯（L-8）",
  discipline_none: "无违规",
  discipline_reprimand: "可予训诫",
  discipline_warning: "可予警告",
  discipline_revocation_proposal: "可提请撤销",
  no_history: "暂无历史",
  // status bar
  st_online: "在线",
  st_offline: "离线",
  st_unknown: "未同步",
  st_pending: "待上传 {n} 条",
  st_last_sync: "上次同步",
  st_never: "从未",
  st_sync_now: "立即同步",
  st_skew: "本机时钟与服务器相差 {n} 分钟，请校准",
  st_synced: "同步完成",
  st_local_time: "本机时间",
  // settings
  settings_title: "设置",
  settings_interval: "自动同步间隔（秒）",
  settings_language: "语言",
  settings_saved: "设置已保存",
  // errors
  err_unknown: "发生未知错误",
  err_no_backend: "未连接到桌面程序（请在基层通桌面端中打开）",
};

type Dict = typeof zh;

const enDict: Dict = {
  app_name: "Jiceng",
  loading: "Loading…",
  ok: "OK",
  cancel: "Cancel",
  save: "Save",
  close: "Close",
  back: "Back",
  enrol_title: "First run: enrol this computer",
  enrol_hint: "Enter the server address and enrolment code from the district bureau. After enrolment this computer works offline.",
  enrol_server: "Server address",
  enrol_server_placeholder: "e.g. http://192.168.1.10:8443",
  enrol_code: "Enrolment code",
  enrol_submit: "Enrol",
  enrol_done: "Enrolled",
  enrol_server_required: "Enter the server address",
  enrol_code_required: "Enter the enrolment code",
  login_title: "Sign in",
  login_username: "Username",
  login_password: "Password",
  login_submit: "Sign in",
  login_offline_hint: "Offline sign-in with the accounts stored on this computer",
  login_required: "Enter username and password",
  logout: "Sign out",
  logout_confirm: "Sign out now?",
  menu_cases: "Corrections subjects",
  settings: "Settings",
  case_search_placeholder: "Name / pinyin initials / ID number",
  case_new: "New",
  case_include_deleted: "Show deleted",
  col_name: "Name",
  col_id_number: "ID number",
  col_sex: "Sex",
  col_kind: "Kind",
  col_period: "Correction period",
  col_status: "Status",
  col_org: "Org unit",
  col_flags: "Flags",
  tag_pending: "Pending sync",
  tag_conflict: "Conflict",
  tag_deleted: "Deleted",
  empty_cases: "No data",
  sex_male: "Male",
  sex_female: "Female",
  total_n: "{n} in total",
  form_new: "New corrections subject",
  form_edit: "Edit corrections subject",
  form_name: "Name",
  form_id_number: "ID number",
  form_kind: "Kind",
  form_start: "Start date",
  form_end: "End date",
  form_status: "Status",
  form_date_placeholder: "YYYY-MM-DD",
  form_name_required: "Enter the name",
  form_kind_required: "Choose the kind",
  form_date_required: "Enter the date",
  idhint_length: "The ID number has 18 characters",
  idhint_chars: "17 digits, then a digit or X",
  idhint_checksum: "The check digit is wrong, please verify",
  idhint_ok: "Format OK",
  form_saved: "Saved",
  detail_title: "Subject detail",
  edit: "Edit",
  delete: "Delete",
  restore: "Restore",
  delete_confirm: "Delete this subject? Deletion can be undone.",
  restore_confirm: "Restore this subject?",
  deleted_ok: "Deleted",
  restored_ok: "Restored",
  birth_date: "Birth date",
  checkins: "Check-ins",
  checkin_add: "Add check-in",
  checkin_time: "Time",
  checkin_method: "Method",
  checkin_note: "Note",
  checkin_recorded_by: "Recorded by",
  checkin_saved: "Check-in recorded",
  history: "Field history",
  history_field: "Field",
  history_value: "Value",
  history_hlc: "Timestamp (HLC)",
  history_time: "Changed at",
  history_this_pc: "This PC",
  history_site: "Site",
  history_user: "User",
  conflicts: "Open conflicts",
  conflict_field: "Field",
  conflict_winner: "Provisional value",
  conflict_other: "Other value",
  no_conflicts: "No conflicts",
  no_checkins: "No check-ins yet",
  entries: "Supervision records",
  menu_tasks: "Today",
  tasks_title: "Tasks and deadlines ({today})",
  tasks_overdue: "Overdue",
  tasks_due_soon: "Due soon",
  tasks_due: "Open",
  tasks_case: "Subject",
  tasks_rule: "Rule",
  tasks_item: "Task",
  tasks_due_date: "Due",
  tasks_days_left: "Days left",
  tasks_none: "Nothing due",
  tasks_calendar_unknown: "Beyond the known holiday calendar: weekends only",
  tasks_escalated: "Escalated to {role}",
  menu_stats: "Statistics",
  stats_title: "Community corrections statistics (as of {date})",
  stats_unit_line: "Reporting unit: {unit}",
  stats_note: "Counted from the record as it stood at the end of the chosen day (later edits do not change it); deleted records are not counted.",
  stats_as_of: "As of",
  stats_export: "Export to Excel",
  stats_exported: "Exported to {path}",
  stats_unit: "Unit",
  stats_total: "Total",
  stats_by_kind: "1. By kind (C-1)",
  stats_by_status: "2. By status",
  stats_by_level: "3. By supervision level (L-3, open cases)",
  stats_flows: "4. Changes this month ({month}) and this year (from {year_start})",
  stats_month: "Month",
  stats_ytd: "Year",
  stats_flow_intake: "Intake",
  stats_flow_released: "Released",
  stats_flow_revoked: "Revoked",
  stats_flow_terminated: "Terminated",
  stats_level_unset: "Not set",
  stats_compliance: "5. Monthly compliance ({month}, subjects in correction at month end; C-10, C-11)",
  stats_rule: "Rule",
  stats_met: "Met",
  stats_in_correction: "In correction",
  stats_rate: "Rate",
  stats_rule_c10: "Public-interest labour (C-10)",
  stats_rule_c11: "Group education (C-11)",
  intake: "Intake and classification",
  form_judgment_effective: "Judgment effective on",
  form_reported_on: "Reported on",
  form_level: "Supervision level",
  level_strict: "Strict",
  level_normal: "Normal",
  level_lenient: "Lenient",
  entry_add: "Add record",
  entry_kind: "Kind",
  entry_date: "Date",
  entry_minutes: "Duration (minutes)",
  entry_days: "Days out of contact",
  entry_ref: "Reprimand/warning corrected",
  entry_note: "Note",
  entry_saved: "Record saved",
  no_entries: "No supervision records yet",
  compliance: "Monthly labour and education (C-10, C-11)",
  compliance_month: "Month",
  compliance_labour: "Public-interest labour",
  compliance_education: "Group education",
  compliance_ok: "met",
  compliance_short: "short",
  compliance_running: "month running",
  discipline: "Discipline ladder (L-8)",
  discipline_none: "No breach",
  discipline_reprimand: "Reprimand eligible",
  discipline_warning: "Warning eligible",
  discipline_revocation_proposal: "Revocation proposal eligible",
  no_history: "No history",
  st_online: "Online",
  st_offline: "Offline",
  st_unknown: "Not synced yet",
  st_pending: "{n} to upload",
  st_last_sync: "Last sync",
  st_never: "never",
  st_sync_now: "Sync now",
  st_skew: "This PC's clock differs from the server by {n} minutes; please correct it",
  st_synced: "Sync finished",
  st_local_time: "This PC's time",
  settings_title: "Settings",
  settings_interval: "Auto-sync interval (seconds)",
  settings_language: "Language",
  settings_saved: "Settings saved",
  err_unknown: "Unknown error",
  err_no_backend: "Not connected to the desktop shell (open this inside the Jiceng desktop app)",
};

export type MsgKey = keyof Dict;

const dicts: Record<Lang, Dict> = { zh, en: enDict };

function initialLang(): Lang {
  try {
    return localStorage.getItem("jiceng.lang") === "en" ? "en" : "zh";
  } catch {
    return "zh";
  }
}

export const lang = ref<Lang>(initialLang());

export function setLang(l: Lang) {
  lang.value = l;
  try {
    localStorage.setItem("jiceng.lang", l);
  } catch {
    /* storage unavailable: keep it for this run only */
  }
  document.documentElement.lang = l === "zh" ? "zh-CN" : "en";
}

export const elLocale = computed(() => (lang.value === "zh" ? zhCn : en));

export function t(key: MsgKey, params?: Record<string, string | number>): string {
  let s: string = dicts[lang.value][key] ?? key;
  if (params) {
    for (const [k, v] of Object.entries(params)) s = s.replace(`{${k}}`, String(v));
  }
  return s;
}

const kindLabels: Record<Lang, Record<CaseKind, string>> = {
  zh: {
    control: "管制",
    probation: "缓刑",
    temporary_outside: "暂予监外执行",
    parole: "假释",
    deprivation_of_political_rights: "剥夺政治权利",
  },
  en: {
    control: "Public surveillance",
    probation: "Suspended sentence",
    temporary_outside: "Temporary execution outside prison",
    parole: "Parole",
    deprivation_of_political_rights: "Deprivation of political rights",
  },
};

const statusLabels: Record<Lang, Record<CaseStatus, string>> = {
  zh: {
    received: "待接收",
    reported: "已报到",
    in_correction: "在矫",
    released: "解除",
    revoked: "撤销",
    terminated: "终止",
  },
  en: {
    received: "Received",
    reported: "Reported",
    in_correction: "In correction",
    released: "Released",
    revoked: "Revoked",
    terminated: "Terminated",
  },
};

const methodLabels: Record<Lang, Record<CheckinMethod, string>> = {
  zh: { in_person: "当面", phone: "电话", written: "书面", home_visit: "走访" },
  en: { in_person: "In person", phone: "Phone", written: "Written", home_visit: "Home visit" },
};

const roleLabels: Record<Lang, Record<Role, string>> = {
  zh: {
    community_clerk: "社区工作站",
    judicial_officer: "司法所工作人员",
    office_head: "司法所所长",
    district_admin: "区司法局管理员",
    procuratorate_auditor: "检察院",
  },
  en: {
    community_clerk: "Community clerk",
    judicial_officer: "Judicial officer",
    office_head: "Office head",
    district_admin: "District admin",
    procuratorate_auditor: "Procuratorate",
  },
};

export const CASE_KINDS: CaseKind[] = [
  "control",
  "probation",
  "temporary_outside",
  "parole",
  "deprivation_of_political_rights",
];
export const CASE_STATUSES: CaseStatus[] = [
  "received",
  "reported",
  "in_correction",
  "released",
  "revoked",
  "terminated",
];
export const CHECKIN_METHODS: CheckinMethod[] = ["in_person", "phone", "written", "home_visit"];

export const ENTRY_KINDS: EntryKind[] = [
  "labour",
  "group_education",
  "individual_education",
  "psych_session",
  "thought_report",
  "visitor",
  "commendation",
  "reprimand",
  "warning",
  "out_of_contact",
  "corrected",
];
const entryKindLabels: Record<Lang, Record<EntryKind, string>> = {
  zh: {
    labour: "社会公益劳动",
    group_education: "集中教育",
    individual_education: "个别教育",
    psych_session: "心理矫正",
    thought_report: "思想汇报",
    visitor: "会客",
    commendation: "表扬",
    reprimand: "训诫",
    warning: "警告",
    out_of_contact: "失联",
    corrected: "已改正",
  },
  en: {
    labour: "Public-interest labour",
    group_education: "Group education",
    individual_education: "Individual education",
    psych_session: "Counselling session",
    thought_report: "Thought report",
    visitor: "Visitor",
    commendation: "Commendation",
    reprimand: "Reprimand",
    warning: "Warning",
    out_of_contact: "Out of contact",
    corrected: "Corrected",
  },
};
export const entryKindLabel = (k: EntryKind) => entryKindLabels[lang.value][k] ?? k;
export const takesMinutes = (k: EntryKind) =>
  k === "labour" || k === "group_education" || k === "individual_education" || k === "psych_session";

export const kindLabel = (k: CaseKind) => kindLabels[lang.value][k] ?? k;
export const statusLabel = (s: CaseStatus) => statusLabels[lang.value][s] ?? s;
export const methodLabel = (m: CheckinMethod) => methodLabels[lang.value][m] ?? m;
export const roleLabel = (r: Role) => roleLabels[lang.value][r] ?? r;
const fieldLabels: Record<Lang, Record<string, string>> = {
  zh: {
    name: "姓名",
    id_number: "身份证号",
    sex: "性别",
    birth_date: "出生日期",
    kind: "类别",
    sentence_start: "矫正开始日期",
    sentence_end: "矫正结束日期",
    org_unit_id: "所属单位",
    status: "状态",
    deleted: "已删除",
    _deleted: "删除标记",
    judgment_effective_on: "判决（裁定）生效日期",
    reported_on: "报到日期",
    supervision_level: "管理等级",
  },
  en: {
    name: "Name",
    id_number: "ID number",
    sex: "Sex",
    birth_date: "Birth date",
    kind: "Kind",
    sentence_start: "Start date",
    sentence_end: "End date",
    org_unit_id: "Org unit",
    status: "Status",
    deleted: "Deleted",
  },
};

/** A field name from the change log, in words (the raw name when unknown). */
export const fieldLabel = (f: string) => fieldLabels[lang.value][f] ?? f;

/** A logged value in words where it is a code we know (kind, status, sex); otherwise as stored. */
export function fieldValueLabel(field: string, value: string): string {
  if (field === "kind" && (CASE_KINDS as string[]).includes(value)) return kindLabel(value as CaseKind);
  if (field === "status" && (CASE_STATUSES as string[]).includes(value)) return statusLabel(value as CaseStatus);
  if (field === "sex") return sexLabel(value);
  if (field === "supervision_level" && ["strict", "normal", "lenient"].includes(value)) return t(("level_" + value) as MsgKey);
  return value;
}

export const sexLabel = (s: string) =>
  s === "male" ? t("sex_male") : s === "female" ? t("sex_female") : s;
