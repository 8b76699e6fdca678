/**
 * The server's clock, as GET /api/time tells it: a few samples, keeping the one with the
 * shortest round trip and assuming the server read its clock half-way through it.
 */

let offsetMs = 0;

const SAMPLES = 3;
/** A sample slower than this says nothing useful about the offset, and must not hold the page. */
const SAMPLE_TIMEOUT_MS = 3000;

/** Measures the offset of the server's clock from this device's; keeps the last one on failure. */
export async function syncServerClock(): Promise<void> {
  let best: { rtt: number; offset: number } | undefined;
  for (let i = 0; i < SAMPLES; i++) {
    const sent = performance.now();
    let now: unknown;
    try {
      const res = await fetch("/api/time", { cache: "no-store", signal: AbortSignal.timeout(SAMPLE_TIMEOUT_MS) });
      now = ((await res.json()) as { now?: unknown }).now;
    } catch {
      continue;
    }
    const received = performance.now();
    if (typeof now !== "number") continue;
    const rtt = received - sent;
    const offset = now + rtt / 2 - (performance.timeOrigin + received);
    if (best === undefined || rtt < best.rtt) best = { rtt, offset };
  }
  if (best !== undefined) offsetMs = best.offset;
}

/** Now by the server's clock, epoch ms. performance.now() is used: it does not jump when the device's clock is set. */
export function serverNow(): number {
  return performance.timeOrigin + performance.now() + offsetMs;
}
