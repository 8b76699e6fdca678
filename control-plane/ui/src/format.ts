/**
 * How the pages show times, money and counts: instants in the operator's time zone with UTC
 * beside them, prices in their currency (Intl), and the datetime-local inputs' local values.
 */
import { el } from "./dom";

/** The browser's time zone, e.g. "Asia/Kolkata". */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

function dateTimeFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "shortOffset",
  });
}

const LOCAL = dateTimeFormat(TIME_ZONE);
const UTC = dateTimeFormat("UTC");

/** "2030-01-01 17:30:00" and its zone ("GMT+5:30") in the given format. */
function parts(format: Intl.DateTimeFormat, ms: number): { dateTime: string; zone: string } {
  const p = Object.fromEntries(format.formatToParts(ms).map((x) => [x.type, x.value]));
  return { dateTime: `${p["year"]}-${p["month"]}-${p["day"]} ${p["hour"]}:${p["minute"]}:${p["second"]}`, zone: p["timeZoneName"] ?? "" };
}

/** The instant in the operator's zone, and in UTC; no local one where they read the same (GMT+0 beside UTC). */
function localAndUtc(ms: number): { local?: string; utc: string } {
  const local = parts(LOCAL, ms);
  const utc = parts(UTC, ms).dateTime;
  return local.dateTime === utc ? { utc: `${utc} UTC` } : { local: `${local.dateTime} ${local.zone}`, utc: `${utc} UTC` };
}

/** "2030-01-01 17:30:00 GMT+5:30 · 2030-01-01 12:00:00 UTC", or the UTC one alone. */
export function instantText(iso: string): string {
  const { local, utc } = localAndUtc(Date.parse(iso));
  return local === undefined ? utc : `${local} · ${utc}`;
}

/** An instant as a <time>: local time, UTC beside it in smaller print; UTC alone where they agree. */
export function instantElement(iso: string, id?: string): HTMLTimeElement {
  const { local, utc } = localAndUtc(Date.parse(iso));
  const attrs = { datetime: iso, ...(id === undefined ? {} : { id }) };
  if (local === undefined) return el("time", attrs, el("span", { class: "local-time", text: utc }));
  return el("time", attrs, el("span", { class: "local-time", text: local }), " ", el("small", { class: "utc-time", text: utc }));
}

/** A clock time in the operator's zone, "17:30:05". */
export function clockText(ms: number): string {
  return parts(LOCAL, ms).dateTime.slice(11);
}

/** The datetime-local value of an instant in the operator's zone, "2030-01-01T17:30:00". */
export function toLocalInput(iso: string): string {
  return parts(LOCAL, Date.parse(iso)).dateTime.replace(" ", "T");
}

/** A datetime-local value (read as the operator's time) as ISO 8601 UTC; undefined when empty or invalid. */
export function fromLocalInput(value: string): string | undefined {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? new Date(value).getTime() : NaN;
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** Minor units in their currency, "$19.99", "¥1,999"; undefined for a code Intl does not know. */
export function money(minorUnits: number, currency: string): string | undefined {
  try {
    const format = new Intl.NumberFormat(undefined, { style: "currency", currency });
    return format.format(minorUnits / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
  } catch {
    return undefined;
  }
}

const COUNT = new Intl.NumberFormat();

export function count(n: number): string {
  return COUNT.format(n);
}
