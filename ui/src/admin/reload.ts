import type { InjectionKey } from "vue";

/** Reloads the administration screen's directory after a change (provided by AdminView). */
export const ADMIN_RELOAD: InjectionKey<() => Promise<void>> = Symbol("admin-reload");
