// App-wide reactive state: who is signed in, what the shell says about itself and about sync.
import { reactive } from "vue";
import type { AppInfo } from "./bindings/AppInfo";
import type { SessionUser } from "./bindings/SessionUser";
import type { SyncStatus } from "./bindings/SyncStatus";

export const state = reactive({
  appInfo: null as AppInfo | null,
  user: null as SessionUser | null,
  sync: null as SyncStatus | null,
  /** Bumped after every sync attempt and every local write, so lists know to reload. */
  dataVersion: 0,
  /** A search text handed from the person profile to the tab it opens (taken once by that list). */
  searchPreset: "",
  /** Issue 11 §4: the screen is locked (idle, or by hand) until the user's password is given. */
  locked: false,
});

/** The search text a list starts with: the preset left by the person profile, once. */
export function takePreset(): string {
  const text = state.searchPreset;
  state.searchPreset = "";
  return text;
}

export function setSync(s: SyncStatus) {
  state.sync = s;
  state.dataVersion++;
}
