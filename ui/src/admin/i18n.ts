// Words of the district's administration screens (issue 13 §3, D-2): the org tree, sites, users
// and the audit of every change, zh-CN first. Kept apart from ../i18n.ts like ../corrections/i18n.ts.
import { lang, type Lang } from "../i18n";

const zh = {
  admin_menu: "系统管理",
  admin_tab_tree: "组织机构",
  admin_tab_sites: "站点",
  admin_tab_users: "用户与角色",
  admin_tab_audit: "操作记录",
  admin_offline: "系统管理需要连接同步服务器。",
  admin_refresh: "刷新",
  admin_kind_district: "区",
  admin_kind_township: "司法所（乡镇街道）",
  admin_kind_community: "社区",
  admin_add_child: "新增下级单位",
  admin_add_site: "新增站点",
  admin_unit_name: "单位名称",
  admin_site_name: "站点名称",
  admin_site_name_hint: "例如：某某社区工作站、某某司法所 2 号笔记本",
  admin_parent: "上级单位",
  admin_kind: "类型",
  admin_users_count: "{n} 个用户",
  admin_sites_count: "{n} 个站点",
  admin_saved: "已完成，已记入操作记录",
  admin_code_title: "注册码（只显示这一次）",
  admin_code_hint: "请把注册码交给该电脑的使用人：安装基层通后在首次启动时输入。注册码 7 天内有效，只能使用一次。",
  admin_code_copy: "复制",
  admin_code_copied: "已复制",
  admin_new_code: "新发注册码",
  admin_new_code_confirm: "为“{name}”签发新的注册码吗？换电脑或重装后用它重新注册，旧电脑的令牌不受影响（丢失的电脑请先停用）。",
  admin_user_add: "新增用户",
  admin_user_search: "按姓名、用户名或单位筛选",
  admin_username: "用户名",
  admin_display_name: "姓名",
  admin_role: "角色",
  admin_unit: "所在单位",
  admin_password: "初始密码",
  admin_password_hint: "至少 8 位，含字母和数字等至少两种字符，不能包含用户名；请当面告知本人",
  admin_status: "状态",
  admin_enabled: "正常",
  admin_disabled: "已停用",
  admin_disable: "停用",
  admin_enable: "启用",
  admin_reset: "重置密码",
  admin_disable_prompt: "停用“{name}”吗？停用后该用户在任何电脑上都不能登录，其经办的记录全部保留。请填写原因：",
  admin_disable_reason: "例如：调离、退休",
  admin_reset_prompt: "为“{name}”设置临时密码（下次登录时必须修改）：",
  admin_audit_time: "时间",
  admin_audit_by: "操作人",
  admin_audit_via: "来源",
  admin_audit_action: "操作",
  admin_audit_target: "对象",
  admin_audit_detail: "说明",
  admin_audit_none: "还没有操作记录",
  admin_via_cli: "服务器命令行",
  admin_action_add_org_unit: "新增单位",
  admin_action_add_site: "新增站点",
  admin_action_new_enrolment_code: "签发注册码",
  admin_action_add_user: "新增用户",
  admin_action_reset_password: "重置密码",
  admin_action_disable_user: "停用用户",
  admin_action_enable_user: "启用用户",
  admin_action_revoke_site: "停用站点",
  admin_cancel: "取消",
  admin_confirm: "确定",
  admin_required: "请填写",
};
type Dict = typeof zh;

const en: Dict = {
  admin_menu: "Administration",
  admin_tab_tree: "Org tree",
  admin_tab_sites: "Sites",
  admin_tab_users: "Users and roles",
  admin_tab_audit: "Audit",
  admin_offline: "Administration needs the sync server.",
  admin_refresh: "Refresh",
  admin_kind_district: "District",
  admin_kind_township: "Judicial office (township)",
  admin_kind_community: "Community",
  admin_add_child: "Add a unit below",
  admin_add_site: "Add a site",
  admin_unit_name: "Unit name",
  admin_site_name: "Site name",
  admin_site_name_hint: "e.g. X community workstation, X judicial office laptop 2",
  admin_parent: "Parent unit",
  admin_kind: "Kind",
  admin_users_count: "{n} users",
  admin_sites_count: "{n} sites",
  admin_saved: "Done and recorded in the audit",
  admin_code_title: "Enrolment code (shown only this once)",
  admin_code_hint: "Give the code to the PC's user: they enter it at the first start of Jiceng. It is valid for 7 days, once.",
  admin_code_copy: "Copy",
  admin_code_copied: "Copied",
  admin_new_code: "New enrolment code",
  admin_new_code_confirm: "Issue a new enrolment code for “{name}”? A replaced or reinstalled PC re-enrols with it; revoke a lost PC first.",
  admin_user_add: "Add a user",
  admin_user_search: "Filter by name, username or unit",
  admin_username: "Username",
  admin_display_name: "Name",
  admin_role: "Role",
  admin_unit: "Unit",
  admin_password: "First password",
  admin_password_hint: "At least 8 characters of two kinds or more, not containing the username; tell the user in person",
  admin_status: "Status",
  admin_enabled: "Enabled",
  admin_disabled: "Disabled",
  admin_disable: "Disable",
  admin_enable: "Enable",
  admin_reset: "Reset password",
  admin_disable_prompt: "Disable “{name}”? They can no longer sign in on any PC; everything they recorded stays. Reason:",
  admin_disable_reason: "e.g. transferred, retired",
  admin_reset_prompt: "A temporary password for “{name}” (to be changed at the next sign-in):",
  admin_audit_time: "Time",
  admin_audit_by: "By",
  admin_audit_via: "From",
  admin_audit_action: "Change",
  admin_audit_target: "Of",
  admin_audit_detail: "Detail",
  admin_audit_none: "No changes recorded yet",
  admin_via_cli: "server command line",
  admin_action_add_org_unit: "Unit added",
  admin_action_add_site: "Site added",
  admin_action_new_enrolment_code: "Enrolment code issued",
  admin_action_add_user: "User added",
  admin_action_reset_password: "Password reset",
  admin_action_disable_user: "User disabled",
  admin_action_enable_user: "User enabled",
  admin_action_revoke_site: "Site revoked",
  admin_cancel: "Cancel",
  admin_confirm: "OK",
  admin_required: "Required",
};

export type AdminKey = keyof Dict;
const dicts: Record<Lang, Dict> = { zh, en };

export function ta(key: AdminKey, params?: Record<string, string | number>): string {
  let s: string = dicts[lang.value][key] ?? key;
  for (const [k, v] of Object.entries(params ?? {})) s = s.replace(`{${k}}`, String(v));
  return s;
}

export function kindName(kind: string): string {
  if (kind === "district") return ta("admin_kind_district");
  if (kind === "township") return ta("admin_kind_township");
  if (kind === "community") return ta("admin_kind_community");
  return kind;
}

export function actionName(action: string): string {
  const key = `admin_action_${action}` as AdminKey;
  return key in zh ? ta(key) : action;
}
