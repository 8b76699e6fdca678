/**
 * The soak run: a steady arrival rate of new shoppers for a long time (SOAK_RATE per second,
 * default a tenth of the scenario's peak; SOAK_DURATION, default 30m), each buying once and
 * then reading their order's status, to show what drifts over time: latency, errors, memory
 * (watch the dashboard), the drain's backlog. Use a sale with enough stock for the whole run.
 *
 *   SCENARIO=soak.json FS_JWT_SECRET=… k6 run --summary-export=summary.json load-test/k6/soak.ts
 */
import http from "k6/http";
import { check } from "k6";
import exec from "k6/execution";
import type { Options } from "k6/options";
import { parseScenario } from "./lib/scenario.ts";
import { purchaseAs } from "./lib/purchase.ts";

const scenario = parseScenario(open(__ENV.SCENARIO ?? "scenario.json"));
const secret = __ENV.FS_JWT_SECRET ?? "";
const rate = Number(__ENV.SOAK_RATE ?? String(Math.max(1, Math.round(scenario.peakRate / 10))));

export const options: Options = {
  scenarios: {
    soak: {
      executor: "constant-arrival-rate",
      rate,
      timeUnit: "1s",
      duration: __ENV.SOAK_DURATION ?? "30m",
      preAllocatedVUs: Math.min(scenario.maxVUs, Math.ceil(rate / 5)),
      maxVUs: scenario.maxVUs,
    },
  },
  thresholds: {
    server_errors: ["rate<0.001"],
    "http_req_duration{name:purchase}": ["p(99)<500"],
    "http_req_duration{name:order_status}": ["p(99)<500"],
    // The rate was kept: k6 never ran out of VUs.
    dropped_iterations: ["count<1"],
    orders_accepted: [`count<=${scenario.stock}`],
  },
  summaryTrendStats: ["avg", "med", "p(95)", "p(99)", "max"],
};

export function setup(): void {
  if (secret.length < 32) throw new Error("FS_JWT_SECRET (32+ characters, the gateway's) is required to sign shopper tokens");
}

export default function (): void {
  const bought = purchaseAs(scenario, `${scenario.shopperPrefix}${exec.scenario.iterationInTest}`, secret);
  if (bought.orderId === undefined) return;
  const res = http.get(`${scenario.gatewayUrl}/api/orders/${bought.orderId}`, {
    headers: { Authorization: `Bearer ${bought.token}` },
    tags: { name: "order_status" },
  });
  check(res, { "own order readable": (r) => r.status === 200 });
}
