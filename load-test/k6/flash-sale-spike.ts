/**
 * The flash-sale spike: arrivals ramp from 0 to the scenario's peak rate so that the peak
 * meets the sale's opening second, hold there, then stop. Every iteration is a new shopper
 * with a token signed here (FS_JWT_SECRET).
 *
 *   SCENARIO=spike.json FS_JWT_SECRET=… k6 run --summary-export=summary.json load-test/k6/flash-sale-spike.ts
 *
 * Thresholds (k6 exits non-zero when one fails): under 0.1 % server errors, p95 of a purchase
 * under P95_MS (default 250 ms), and no more accepted orders than the sale has units.
 */
import exec from "k6/execution";
import type { Options } from "k6/options";
import { parseScenario } from "./lib/scenario.ts";
import { purchaseAs } from "./lib/purchase.ts";

const scenario = parseScenario(open(__ENV.SCENARIO ?? "scenario.json"));
const secret = __ENV.FS_JWT_SECRET ?? "";
const p95Ms = Number(__ENV.P95_MS ?? "250");

/** Seconds from now until the ramp must begin for the peak to meet the opening. */
const rampStartsIn = Math.max(0, Math.floor((Date.parse(scenario.startsAt) - Date.now()) / 1000) - scenario.rampSeconds);

export const options: Options = {
  scenarios: {
    spike: {
      executor: "ramping-arrival-rate",
      startTime: `${rampStartsIn}s`,
      startRate: 0,
      timeUnit: "1s",
      preAllocatedVUs: Math.min(scenario.maxVUs, Math.ceil(scenario.peakRate / 10)),
      maxVUs: scenario.maxVUs,
      stages: [
        { duration: `${scenario.rampSeconds}s`, target: scenario.peakRate },
        { duration: `${scenario.holdSeconds}s`, target: scenario.peakRate },
        { duration: "5s", target: 0 },
      ],
    },
  },
  thresholds: {
    server_errors: ["rate<0.001"],
    "http_req_duration{name:purchase}": [`p(95)<${p95Ms}`],
    orders_accepted: [`count<=${scenario.stock}`],
  },
  summaryTrendStats: ["avg", "med", "p(95)", "p(99)", "max"],
};

export function setup(): void {
  if (secret.length < 32) throw new Error("FS_JWT_SECRET (32+ characters, the gateway's) is required to sign shopper tokens");
}

export default function (): void {
  purchaseAs(scenario, `${scenario.shopperPrefix}${exec.scenario.iterationInTest}`, secret);
}
