// Issue 13 §2: the ECharts options of the oversight dashboards, built from core's buckets (core decides
// every count; this file only draws them) and the sync-health rows of the district's sites.
import type { EChartsCoreOption } from "echarts/core";
import type { DashboardBucket } from "../bindings/DashboardBucket";
import type { DashboardMonth } from "../bindings/DashboardMonth";
import type { DashboardRecord } from "../bindings/DashboardRecord";
import type { Consolidation } from "../bindings/Consolidation";
import type { SiteSummary } from "../bindings/SiteSummary";
import { t, type MsgKey } from "../i18n";
import { fmtShanghai } from "../util";

/** Fixed bucket codes core sends (state codes); any other key is a name (office, officer, rule). */
const CODES = [
  "unassigned",
  "open_in_time",
  "open_overdue",
  "resolved_in_time",
  "resolved_late",
  "satisfied",
  "basically_satisfied",
  "unsatisfied",
  "awaiting",
  "success",
  "failed",
  "terminated",
  "open",
];

export function bucketLabel(b: { key: string; label: string }): string {
  return CODES.includes(b.key) ? t(("dash_b_" + b.key) as MsgKey) : b.label;
}

const COLORS = ["#1d3a6e", "#3a7bd5", "#f0a020", "#d9534f", "#5cb85c", "#8e6cc0", "#20a0a0"];

/** A bar per bucket; long labels (rules, names) lie along a horizontal bar chart. */
export function barOption(buckets: DashboardBucket[], color = COLORS[1], horizontal = false): EChartsCoreOption {
  const names = buckets.map(bucketLabel);
  const category = { type: "category", data: names, axisLabel: { interval: 0, width: 110, overflow: "truncate" } };
  const value = { type: "value", minInterval: 1 };
  return {
    color: [color],
    tooltip: { trigger: "axis" },
    // Room on the right for the value printed beyond the longest bar.
    grid: { left: horizontal ? 120 : 40, right: horizontal ? 40 : 16, top: 16, bottom: horizontal ? 24 : 48 },
    xAxis: horizontal ? value : { ...category, axisLabel: { ...category.axisLabel, rotate: names.length > 4 ? 30 : 0 } },
    yAxis: horizontal ? { ...category, inverse: true } : value,
    series: [{ type: "bar", name: t("dash_count"), data: buckets.map((b) => b.count), barMaxWidth: 36, label: { show: true, position: horizontal ? "right" : "top" } }],
  };
}

/** A slice per bucket (zero ones stay in the data so a slice's index is its bucket's). */
export function pieOption(buckets: DashboardBucket[]): EChartsCoreOption {
  return {
    color: COLORS,
    tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
    legend: { bottom: 0, type: "scroll" },
    series: [
      {
        type: "pie",
        radius: ["35%", "65%"],
        center: ["50%", "45%"],
        label: { formatter: "{b} {c}" },
        data: buckets.map((b) => ({ name: bucketLabel(b), value: b.count })),
      },
    ],
  };
}

/** C-10 / C-11 / L-3: one group of bars per month, the rate in per cent (no bar when none was due). */
export function complianceOption(months: DashboardMonth[]): EChartsCoreOption {
  const rules = months[0]?.rates.map((r) => r.rule_ref) ?? [];
  return {
    color: COLORS,
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 40, right: 16, top: 16, bottom: 48 },
    xAxis: { type: "category", data: months.map((m) => m.label + (m.complete ? "" : t("dash_running"))) },
    yAxis: { type: "value", min: 0, max: 100, name: t("dash_rate") },
    series: rules.map((rule, s) => ({
      type: "bar",
      name: rule,
      barMaxWidth: 24,
      data: months.map((m) => {
        const r = m.rates[s];
        return r && r.rate !== null ? Math.round(r.rate * 1000) / 10 : null;
      }),
    })),
  };
}

/** One site's sync health: last night's reconciliation when there is one, the site list otherwise. */
export type SiteHealth = { id: string; name: string; received: number; held: number; alarms: number; record: DashboardRecord };

function shanghaiTime(ms: number | null): string {
  if (ms === null) return t("dash_sync_never");
  return fmtShanghai(ms).slice(0, 16);
}

export function siteHealth(sites: SiteSummary[], day: Consolidation | null): SiteHealth[] {
  const known = new Map((day?.sites ?? []).map((s) => [s.site_id, s]));
  const ids = [...sites.map((s) => s.id), ...[...known.keys()].filter((id) => !sites.some((s) => s.id === id))];
  return ids.map((id) => {
    const site = sites.find((s) => s.id === id);
    const d = known.get(id);
    const state = (site?.revoked ?? d?.revoked) ? t("dash_sync_revoked") : d?.silent ? t("dash_sync_silent") : "";
    const detail = d
      ? t("dash_sync_detail", { received: d.operations_received, held: d.held, alarms: d.alarms.length, last: shanghaiTime(d.last_received_ms) })
      : t("dash_sync_seq", { seq: site?.last_seq ?? 0 });
    return {
      id,
      name: site?.name ?? d?.name ?? id,
      received: d?.operations_received ?? 0,
      held: d?.held ?? 0,
      alarms: d?.alarms.length ?? 0,
      record: {
        kind: "site",
        id,
        title: site?.name ?? d?.name ?? id,
        unit: site?.org_unit_id ?? d?.org_unit_id ?? "",
        detail: state ? `${state}；${detail}` : detail + (d?.alarms.length ? `（${d.alarms.join("、")}）` : ""),
        date: day?.day ?? "",
      },
    };
  });
}

export function syncOption(rows: SiteHealth[]): EChartsCoreOption {
  return {
    color: [COLORS[1], COLORS[2], COLORS[3]],
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 40, right: 16, top: 16, bottom: 64 },
    xAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { interval: 0, rotate: rows.length > 4 ? 30 : 0, width: 90, overflow: "truncate" } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { type: "bar", name: t("dash_sync_received"), data: rows.map((r) => r.received), barMaxWidth: 20 },
      { type: "bar", name: t("dash_sync_held"), data: rows.map((r) => r.held), barMaxWidth: 20 },
      { type: "bar", name: t("dash_sync_alarms"), data: rows.map((r) => r.alarms), barMaxWidth: 20 },
    ],
  };
}
