// One app-wide confirmation dialog (components/ConfirmDialog.vue, mounted once in App.vue).
import { reactive } from "vue";

export const confirmState = reactive({ open: false, title: "", message: "", danger: false });
let resolver: ((ok: boolean) => void) | null = null;

/** Resolves true when the user confirms, false when they cancel or close the dialog. */
export function confirm(title: string, message: string, danger = false): Promise<boolean> {
  resolver?.(false);
  Object.assign(confirmState, { open: true, title, message, danger });
  return new Promise((resolve) => (resolver = resolve));
}

export function answerConfirm(ok: boolean) {
  confirmState.open = false;
  const r = resolver;
  resolver = null;
  r?.(ok);
}
