// One way to run a dialog's command: no double submission, the core's zh message shown next to the
// fields on failure, a toast on success. (Every dialog used to repeat this by hand.)
import { ref } from "vue";
import { ElMessage } from "element-plus";
import { toUiError } from "./api";

export function useSubmit() {
  const busy = ref(false);
  const error = ref("");
  /** Runs `action`; on success shows `done` and calls `after`. Returns whether it succeeded. */
  async function submit(action: () => Promise<unknown>, done: string, after?: () => void): Promise<boolean> {
    if (busy.value) return false;
    busy.value = true;
    error.value = "";
    try {
      await action();
      ElMessage.success(done);
      after?.();
      return true;
    } catch (e) {
      error.value = toUiError(e).message;
      return false;
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, submit };
}
