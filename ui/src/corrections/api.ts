// The corrections and district-settings commands (src-tauri/src/commands_corrections.rs), from the
// generated client (ui/src/commands.ts).
import { commands } from "../commands";

/** Tables whose records show their own change history. */
export type HistoryTable = "corr_person" | "corr_plan" | "corr_document" | "corr_leave" | "corr_location_period";

/** Every command of the shell; the case file's are those of commands_corrections.rs. */
export const caseFileApi = commands;
