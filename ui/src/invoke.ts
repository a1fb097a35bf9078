// How the UI calls the desktop shell: one `call` for every command (ui/src/commands.ts, generated),
// errors as a machine code and a zh-CN message.
import { invoke } from "@tauri-apps/api/core";
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

export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  if (!hasBackend()) throw { code: "no_backend", message: t("err_no_backend") } satisfies UiError;
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toUiError(e);
  }
}

