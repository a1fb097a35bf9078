// Issue 13 §5: one paged, searchable list, as every list view of the desktop shows one (cases,
// residents, appeals, mediation cases, volunteers, admissions). Typing searches after a short pause;
// a newer query's answer always wins over an older one's; the spinner shows only when a query is
// slow; every sync or local write reloads quietly.
import { onMounted, reactive, ref, watch, type Ref } from "vue";
import { showError } from "../api";
import type { Page } from "../bindings/Page";
import { state } from "../store";
import { fetchAllPages } from "./useExport";

/** Rows per page of every list. */
export const PAGE_SIZE = 20;
/** How long typing pauses before the search runs, and how long a query runs before the spinner. */
const SEARCH_PAUSE_MS = 250;
const SPINNER_AFTER_MS = 250;

/** What every list's query holds; a list adds its own filters. */
export interface ListQuery {
  text: string;
  page: number;
  includeDeleted: boolean;
}

export function usePagedList<T, Q extends ListQuery>(
  initial: Q,
  fetch: (q: Q, pageSize: number) => Promise<Page<T>>,
  onLoaded?: (page: Page<T>) => void | Promise<void>,
) {
  const q = reactive(initial);
  const rows = ref([]) as Ref<T[]>;
  const total = ref(0);
  const loading = ref(false);
  let seq = 0;

  async function load(quiet = false) {
    const mine = ++seq;
    const spinner = quiet ? undefined : setTimeout(() => mine === seq && (loading.value = true), SPINNER_AFTER_MS);
    try {
      const page = await fetch(q as Q, PAGE_SIZE);
      if (mine !== seq) return; // a newer query answered first
      rows.value = page.items;
      total.value = page.total;
      await onLoaded?.(page);
    } catch (e) {
      if (mine === seq) showError(e);
    } finally {
      clearTimeout(spinner);
      if (mine === seq) loading.value = false;
    }
  }

  // Any filter but the page: back to page 1 after a pause (typing), then load.
  let pause: ReturnType<typeof setTimeout> | undefined;
  const filters = () => JSON.stringify({ ...q, page: undefined });
  watch(filters, () => {
    clearTimeout(pause);
    pause = setTimeout(() => {
      if (q.page !== 1) q.page = 1; // the page's watcher loads
      else load();
    }, SEARCH_PAUSE_MS);
  });
  watch(
    () => q.page,
    () => load(),
  );
  watch(
    () => state.dataVersion,
    () => load(true),
  );
  onMounted(() => load());

  /** A WebDriver "clear" fires only "change", not "input": take the search text from there too. */
  function onTextChange(text: string) {
    if (text !== q.text) q.text = text;
  }

  /** Every row of the current query (all its pages), for an export (issue 13 §4). */
  function fetchAll(onProgress?: (done: number, total: number) => void): Promise<T[]> {
    return fetchAllPages((page, pageSize) => fetch({ ...(q as Q), page } as Q, pageSize), onProgress);
  }

  return { q, rows, total, loading, load, onTextChange, fetchAll, PAGE_SIZE };
}
