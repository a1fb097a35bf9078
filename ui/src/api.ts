// The desktop shell's commands (ui/src/commands.ts, generated from the Rust side by
// tests/tests/command_layer.rs). The UI talks to nothing else: no network, no SQLite.
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { ElMessage } from "element-plus";
import type { SyncStatus } from "./bindings/SyncStatus";

import { commands } from "./commands";
import { hasBackend, toUiError, type UiError } from "./invoke";
export { call, hasBackend, toUiError, type UiError } from "./invoke";

/** Show a failed command to the user (zh-CN message from core) and return it for inline display. */
export function showError(e: unknown): UiError {
  const err = toUiError(e);
  ElMessage({ type: "error", message: err.message, duration: 5000, customClass: "jc-error-message" });
  return err;
}

/** Every command of the shell, typed from its Rust signature (argument names are snake_case). */
export const api = commands;

/** The shell emits "sync-status" after every background or manual sync attempt. */
export async function onSyncStatus(cb: (s: SyncStatus) => void): Promise<UnlistenFn> {
  if (!hasBackend()) return () => {};
  return listen<SyncStatus>("sync-status", (ev) => cb(ev.payload));
}
