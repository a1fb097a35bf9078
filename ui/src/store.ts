// App-wide reactive state: who is signed in, what the shell says about itself and about sync.
import { reactive } from "vue";
import type { AppInfo } from "./bindings/AppInfo";
import type { SessionUser } from "./bindings/SessionUser";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { Capabilities } from "./bindings/Capabilities";

export const state = reactive({
  appInfo: null as AppInfo | null,
  user: null as SessionUser | null,
  sync: null as SyncStatus | null,
  /** Bumped after every sync attempt and every local write, so lists know to reload. */
  dataVersion: 0,
  /** A search text handed from the person profile to the tab it opens (taken once by that list). */
  searchPreset: "",
  /** Issue 11 §5: what the signed-in user may do, from core's permission matrix (null before login). */
  caps: null as Capabilities | null,
  /** Issue 11 §4: the screen is locked (idle, or by hand) until the user's password is given. */
  locked: false,
});

/** The search text a list starts with: the preset left by the person profile, once. */
export function takePreset(): string {
  const text = state.searchPreset;
  state.searchPreset = "";
  return text;
}

/** A capability of the signed-in user (false until core has said). */
export function can(key: keyof Capabilities): boolean {
  return !!state.caps?.[key];
}

export function setSync(s: SyncStatus) {
  state.sync = s;
  state.dataVersion++;
}
