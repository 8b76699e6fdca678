/**
 * A load scenario for one sale, as load-test/scenario-from-sale.ts writes it from the sale's
 * config (admin API). Read by the k6 scripts (SCENARIO=<file>); type-only for Node.
 */
export interface SaleScenario {
  /** The public gateway, e.g. http://127.0.0.1:8080. */
  gatewayUrl: string;
  saleId: string;
  /** Units of the sale: accepted orders must never exceed it. */
  stock: number;
  perUserLimit: number;
  /** ISO 8601: the spike's ramp ends at the opening second. */
  startsAt: string;
  endsAt: string;
  /** Purchase attempts per second at the peak. */
  peakRate: number;
  /** Seconds from 0 to peakRate, ending at startsAt (or at once when the sale is open). */
  rampSeconds: number;
  /** Seconds at peakRate. */
  holdSeconds: number;
  /** Shopper ids are `<shopperPrefix><n>`, so two runs never share a shopper. */
  shopperPrefix: string;
  /** VUs k6 may use to keep the arrival rate up. */
  maxVUs: number;
}

const NUMBER_FIELDS = ["stock", "perUserLimit", "peakRate", "rampSeconds", "holdSeconds", "maxVUs"] as const;
const TEXT_FIELDS = ["gatewayUrl", "saleId", "startsAt", "endsAt", "shopperPrefix"] as const;

/** The scenario in a JSON text; throws naming the first bad field. */
export function parseScenario(text: string): SaleScenario {
  const value = JSON.parse(text) as Record<string, unknown>;
  for (const f of NUMBER_FIELDS) {
    if (typeof value[f] !== "number" || !((value[f] as number) >= 0)) throw new Error(`scenario: ${f} must be a number >= 0`);
  }
  for (const f of TEXT_FIELDS) {
    if (typeof value[f] !== "string" || value[f] === "") throw new Error(`scenario: ${f} must be a non-empty text`);
  }
  return value as unknown as SaleScenario;
}
