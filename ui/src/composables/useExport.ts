// Issue 13 §4 (D-4): every list the desktop shows goes to .xlsx with the columns it shows. A paged
// list exports every page of its current query, not only the one on screen, with progress; the
// shell writes the workbook (core's table_export) to Downloads and says where.
import { ref } from "vue";
import { ElMessage } from "element-plus";
import { api, showError } from "../api";
import type { Page } from "../bindings/Page";
import { t } from "../i18n";
import { state } from "../store";
import { shanghaiToday } from "../util";

/** One column of an export: its title and how a row's cell reads. */
export interface ExportColumn<T> {
  label: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

/** Rows fetched per request while exporting (core's largest page). */
const EXPORT_PAGE = 200;

/** Every row of a paged query: pages of EXPORT_PAGE until the total is reached. */
export async function fetchAllPages<T>(
  fetchPage: (page: number, pageSize: number) => Promise<Page<T>>,
  onProgress?: (done: number, total: number) => void,
): Promise<T[]> {
  const rows: T[] = [];
  for (let page = 1; ; page++) {
    const answer = await fetchPage(page, EXPORT_PAGE);
    rows.push(...answer.items);
    onProgress?.(rows.length, answer.total);
    if (answer.items.length === 0 || rows.length >= answer.total) return rows;
  }
}

function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? "是" : "否";
  return String(v);
}

/** The subtitle of every export: the unit, the day (Asia/Shanghai) and the filter, if any. */
export function exportSubtitle(filter?: string): string {
  const unit = state.appInfo?.org_unit_name ?? "";
  return [unit, shanghaiToday(), filter ?? ""].filter((s) => s.trim()).join(" · ");
}

export function useExport() {
  const exporting = ref(false);
  const progress = ref("");

  async function exportRows<T>(title: string, columns: ExportColumn<T>[], rows: T[] | (() => Promise<T[]>), filter?: string) {
    if (exporting.value) return;
    exporting.value = true;
    progress.value = "";
    try {
      const all = typeof rows === "function" ? await rows() : rows;
      const path = await api.exportTable(
        {
          title,
          subtitle: exportSubtitle(filter),
          columns: columns.map((c) => c.label),
          rows: all.map((r) => columns.map((c) => cell(c.value(r)))),
        },
        null,
      );
      ElMessage({ type: "success", message: t("export_done", { path, n: all.length }), duration: 8000, showClose: true, customClass: "jc-export-done" });
      return path;
    } catch (e) {
      showError(e);
    } finally {
      exporting.value = false;
      progress.value = "";
    }
  }

  /** For paged lists: progress as "<done>/<total>" while the pages arrive. */
  function onProgress(done: number, total: number) {
    progress.value = `${done}/${total}`;
  }

  return { exporting, progress, exportRows, onProgress };
}
