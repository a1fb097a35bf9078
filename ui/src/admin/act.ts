// One administrative change from a panel: made, reported, the screen reloaded; a refusal shown in
// the user's language (core checks names, levels and roles before the request leaves the PC).
import { inject } from "vue";
import { ElMessage } from "element-plus";
import { api, showError } from "../api";
import type { AdminOutcome } from "../bindings/AdminOutcome";
import type { AdminRequest } from "../bindings/AdminRequest";
import { ADMIN_RELOAD } from "./reload";
import { ta } from "./i18n";

export function useAdminAction() {
  const reload = inject(ADMIN_RELOAD, async () => {});
  return async function act(request: AdminRequest): Promise<AdminOutcome | null> {
    try {
      const outcome = await api.adminAction(request);
      ElMessage.success(ta("admin_saved"));
      await reload();
      return outcome;
    } catch (e) {
      showError(e);
      return null;
    }
  };
}
