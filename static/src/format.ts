/** How prices, times and durations read on the pages (in the shopper's own locale). */

export function formatPrice(minorUnits: number, currency: string): string {
  const f = new Intl.NumberFormat(undefined, { style: "currency", currency });
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(minorUnits / 10 ** digits);
}

/** A moment in the shopper's own time zone, naming it ("Dec 1, 2026, 9:47 PM UTC"). */
export function formatTime(iso: string, timeZone?: string): string {
  const parts = { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" } as const;
  return new Intl.DateTimeFormat(undefined, { ...parts, timeZone }).format(new Date(iso));
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** A countdown's face: "1 d 02:03:04", "02:03:04", "03:04". */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const clock = h > 0 || d > 0 ? `${two(h)}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
  return d > 0 ? `${d} d ${clock}` : clock;
}

/** A countdown in words for screen readers, coarse on purpose: "3 minutes", "10 seconds". */
export function countdownInWords(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (s >= 86400) return plural(Math.floor(s / 86400), "day");
  if (s >= 3600) return plural(Math.floor(s / 3600), "hour");
  if (s >= 60) return plural(Math.floor(s / 60), "minute");
  return plural(s, "second");
}

/**
 * Whether a polite announcement is due at `ms` left: each hour above an hour, each minute
 * above a minute, at 30, 10 and 5 seconds. Said once per step, never every second.
 */
export function announcementStep(ms: number): number {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s > 3600) return Math.ceil(s / 3600) * 3600;
  if (s > 60) return Math.ceil(s / 60) * 60;
  if (s > 30) return 60;
  if (s > 10) return 30;
  if (s > 5) return 10;
  return s > 0 ? 5 : 0;
}

/** An order's price: the unit price, and the total when it is more than one unit. */
export function formatOrderPrice(unitMinor: number, currency: string, quantity: number): string {
  const unit = formatPrice(unitMinor, currency);
  return quantity === 1 ? unit : `${quantity} × ${unit} = ${formatPrice(unitMinor * quantity, currency)}`;
}
