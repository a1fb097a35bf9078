// Small helpers shared by the views. Nothing here is a business rule: core decides.
import { lang } from "./i18n";

/** Client-side hint only (GB 11643 check digit); core's validation is authoritative. */
export function idNumberHint(v: string): "" | "idhint_length" | "idhint_chars" | "idhint_checksum" | "idhint_ok" {
  const s = v.trim().toUpperCase();
  if (!s) return "";
  if (s.length !== 18) return "idhint_length";
  if (!/^\d{17}[\dX]$/.test(s)) return "idhint_chars";
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const codes = "10X98765432";
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * w[i];
  return codes[sum % 11] === s[17] ? "idhint_ok" : "idhint_checksum";
}

/** RFC 3339 → local "YYYY-MM-DD HH:mm" (or the input if it does not parse). */
export function fmtTime(v: string | null | undefined): string {
  if (!v) return "";
  const d = new Date(v);
  if (isNaN(d.getTime())) return v;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Local time with its UTC offset, RFC 3339 (e.g. 2026-11-26T09:30:00+08:00). */
export function toRfc3339(d: Date): string {
  const p = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` +
    `${sign}${p(off / 60)}:${p(off % 60)}`
  );
}

export const isZh = () => lang.value === "zh";

/** Today's date on the Asia/Shanghai calendar (UTC+8, no DST), YYYY-MM-DD, whatever this PC's time zone. */
export function shanghaiToday(): string {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
}
