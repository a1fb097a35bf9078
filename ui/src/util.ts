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

// Issue 14 §5 "one clock on screen": every time the app shows is Asia/Shanghai (UTC+8, no daylight
// saving since 1991), whatever this PC's own time zone; histories (core) already are. Every view formats
// an instant through `fmtShanghai` (or `fmtTime` for RFC 3339 text), never with the Date's local getters.

/** Asia/Shanghai's offset from UTC, milliseconds (fixed: China keeps no daylight saving time). */
export const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** An instant (epoch ms, a Date, or RFC 3339 text) as Asia/Shanghai "YYYY-MM-DD HH:mm:ss" ("" if it does not parse). */
export function fmtShanghai(instant: number | Date | string): string {
  const ms = typeof instant === "number" ? instant : typeof instant === "string" ? Date.parse(instant) : instant.getTime();
  if (!Number.isFinite(ms)) return "";
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace("T", " ");
}

/** RFC 3339 → Asia/Shanghai "YYYY-MM-DD HH:mm:ss" (or the input if it does not parse). */
export function fmtTime(v: string | null | undefined): string {
  if (!v) return "";
  return fmtShanghai(v) || v;
}

/** The current Asia/Shanghai wall time, "YYYY-MM-DD HH:mm:ss" (what a date-time picker starts at). */
export function shanghaiNow(): string {
  return fmtShanghai(Date.now());
}

/** An Asia/Shanghai wall time "YYYY-MM-DD HH:mm[:ss]" (a picker's value) as RFC 3339 with +08:00. */
export function shanghaiRfc3339(wall: string): string {
  const [day, time = "00:00:00"] = wall.trim().split(/[ T]/);
  const full = time.length === 5 ? `${time}:00` : time;
  return `${day}T${full}+08:00`;
}

/**
 * A date picker's calendar cell as YYYY-MM-DD. Element Plus hands a cell over as local midnight of the
 * day it shows: a calendar day, not an instant, so it is read with the local getters (the only place).
 */
export function pickerDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** True when this PC's time zone is not UTC+8 now (the status bar then says every time is Beijing time). */
export function pcZoneDiffersFromShanghai(at: Date = new Date()): boolean {
  return -at.getTimezoneOffset() * 60_000 !== SHANGHAI_OFFSET_MS;
}

export const isZh = () => lang.value === "zh";

/** Today's date on the Asia/Shanghai calendar (UTC+8, no DST), YYYY-MM-DD, whatever this PC's time zone. */
export function shanghaiToday(): string {
  return shanghaiNow().slice(0, 10);
}
