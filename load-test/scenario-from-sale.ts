/**
 * Writes a k6 scenario (k6/lib/scenario.ts) from a sale's config, read from the admin API:
 * the peak is what the sale's admission gates admit (admitPerSecond: the whole fleet's) times an
 * overload factor, so the spike pushes past the gate as a real opening does; the ramp ends at
 * the sale's opening second; the hold stops at the sale's end.
 *
 *   FS_ADMIN_TOKEN=… npx tsx load-test/scenario-from-sale.ts --sale demo [--admin-url URL]
 *     [--gateway-url URL] [--overload X] [--ramp SECONDS] [--hold SECONDS] [--out FILE]
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { SaleScenario } from "./k6/lib/scenario";

/** The fields of GET /admin/api/sales/{id} a scenario needs. */
interface SaleConfig {
  id: string;
  stock: number;
  perUserLimit: number;
  startsAt: string;
  endsAt: string;
  limits: { admitPerSecond: number };
}

interface ScenarioOptions {
  gatewayUrl: string;
  overload: number;
  rampSeconds: number;
  holdSeconds: number;
  nowMs: number;
}

/** A request may take up to this long at the peak before k6 needs more VUs than it has. */
const WORST_LATENCY_SECONDS = 0.5;

function scenarioFromSale(sale: SaleConfig, o: ScenarioOptions): SaleScenario {
  const peakRate = Math.ceil(sale.limits.admitPerSecond * o.overload);
  const openSeconds = Math.floor((Date.parse(sale.endsAt) - Math.max(o.nowMs, Date.parse(sale.startsAt))) / 1000);
  return {
    gatewayUrl: o.gatewayUrl,
    saleId: sale.id,
    stock: sale.stock,
    perUserLimit: sale.perUserLimit,
    startsAt: sale.startsAt,
    endsAt: sale.endsAt,
    peakRate,
    rampSeconds: o.rampSeconds,
    holdSeconds: Math.max(0, Math.min(o.holdSeconds, openSeconds)),
    shopperPrefix: `k6-${sale.id}-${o.nowMs.toString(36)}-`,
    maxVUs: Math.max(10, Math.ceil(peakRate * WORST_LATENCY_SECONDS)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sale: { type: "string" },
      "admin-url": { type: "string", default: `http://127.0.0.1:${process.env.FS_ADMIN_PORT ?? "3000"}` },
      "gateway-url": { type: "string", default: `http://127.0.0.1:${process.env.FS_GATEWAY_PORT ?? "8080"}` },
      overload: { type: "string", default: "2" },
      ramp: { type: "string", default: "10" },
      hold: { type: "string", default: "30" },
      out: { type: "string" },
    },
  });
  const token = process.env.FS_ADMIN_TOKEN;
  if (values.sale === undefined || token === undefined) {
    throw new Error("usage: FS_ADMIN_TOKEN=… scenario-from-sale.ts --sale ID [--out FILE] (see the header)");
  }
  const res = await fetch(`${values["admin-url"]}/admin/api/sales/${encodeURIComponent(values.sale)}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`GET sale ${values.sale}: ${res.status} ${await res.text()}`);
  const numbers = ["overload", "ramp", "hold"].map((k) => {
    const n = Number(values[k as "overload"]);
    if (!(n >= 0)) throw new Error(`--${k} must be a number >= 0`);
    return n;
  });
  const scenario = scenarioFromSale((await res.json()) as SaleConfig, {
    gatewayUrl: values["gateway-url"],
    overload: numbers[0]!,
    rampSeconds: numbers[1]!,
    holdSeconds: numbers[2]!,
    nowMs: Date.now(),
  });
  const text = JSON.stringify(scenario, null, 2) + "\n";
  if (values.out === undefined) process.stdout.write(text);
  else writeFileSync(values.out, text);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
