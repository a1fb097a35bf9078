// Typed wrappers around the case-file commands (src-tauri/src/commands_casefile.rs).
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

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  if (!hasBackend()) throw { code: "no_backend", message: t("err_no_backend") } satisfies UiError;
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toUiError(e);
  }
}

/** Tables whose records show their own change history. */
export type HistoryTable = "corr_person" | "corr_plan" | "corr_document" | "corr_leave";

export const caseFileApi = {
  savePerson: (input: PersonInput) => call<PersonRecord>("save_person", { input }),
  setPersonDeleted: (id: string, deleted: boolean) => call<void>("set_person_deleted", { id, deleted }),
  savePlan: (input: CasePlanInput) => call<CasePlan>("save_plan", { input }),
  saveDocument: (input: DocumentInput) => call<DocumentRecord>("save_document", { input }),
  setDocumentDeleted: (id: string, deleted: boolean) => call<void>("set_document_deleted", { id, deleted }),
  recordHistory: (table: HistoryTable, id: string) => call<FieldChange[]>("record_history", { table, id }),
};
