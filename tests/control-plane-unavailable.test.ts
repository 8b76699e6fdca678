/**
 * The admin API with a backend away: Redis frozen (SIGSTOP, past the control plane's Redis
 * command timeout), then Postgres stopped. Every read and write answers within a bound, and
 * never 500: either its answer (what it needs answered) or 503 `unavailable` with Retry-After,
 * the catalogue's code for a backend down. Once the backend is back, the same calls answer.
 * Private Redis and Postgres, which the test stops.
 */
import { DEFAULT_PG_TIMEOUTS, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, createPool, type Pool } from "@flash-sale/node-common";
import { ERROR_CATALOGUE } from "@flash-sale/contract/errors";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import { ControlPlane, TEST_ADMIN_TOKEN } from "./support/control-plane";

let pool: Pool;
let controlPlane: ControlPlane;

/** A call's answer as the test judges it: status, Retry-After, the error code. */
interface Answer {
  call: string;
  status: number;
  retryAfter: string | null;
  error: string | undefined;
  ms: number;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${controlPlane.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let error: string | undefined;
  try {
    error = (JSON.parse(text) as { error?: string }).error;
  } catch {
    error = undefined; // not JSON: a CSV, or nothing
  }
  return { call: `${method} ${path}`, status: res.status, retryAfter: res.headers.get("retry-after"), error, ms: Date.now() - started };
}

const SALE = "unavailable-sale";
const DRAFT_TIMES = { startsAt: new Date(Date.now() + 3_600_000).toISOString(), endsAt: new Date(Date.now() + 7_200_000).toISOString() };

/** Every admin route, reads and writes, on a published sale (and a scheduled one to delete). */
function everyCall(round: string): Promise<Answer>[] {
  const base = "/admin/api/sales";
  return [
    call("GET", base),
    call("GET", `${base}/${SALE}`),
    call("GET", `${base}/${SALE}/traffic`),
    call("GET", `${base}/${SALE}/audit`),
    call("GET", `${base}/${SALE}/orders`),
    call("GET", `${base}/${SALE}/orders.csv`),
    call("GET", "/admin/api/sales-stats"),
    call("POST", base, { id: `created-${round}`, name: "Created", price: 100, stock: 5, deduction: "order", ...DRAFT_TIMES }),
    call("PATCH", `${base}/${SALE}`, { name: `Renamed ${round}` }),
    call("POST", `${base}/${SALE}/pause`),
    call("POST", `${base}/${SALE}/resume`),
    call("POST", `${base}/${SALE}/publish`),
    call("DELETE", `${base}/scheduled-${round}`),
    // The admin UI's session cookie is looked up in Postgres.
    call("GET", base, undefined, { Authorization: "", Cookie: "fs_admin_session=not-a-session" }),
  ];
}

function expectAnsweredOr503(answers: Answer[]): void {
  const wrong = answers.filter((a) => a.status >= 500 && !(a.status === 503 && a.error === "unavailable" && a.retryAfter === String(ERROR_CATALOGUE.unavailable.retryAfterSeconds)));
  expect(wrong).toEqual([]);
}

const stack = useStack(new TestStack({ name: "control_plane_unavailable", database: "private", gateway: false, controlPlane: false }), async () => {
  // The control plane's own bounds: a call queued behind another's row lock gives up in time.
  const { lockTimeoutMs, statementTimeoutMs } = DEFAULT_PG_TIMEOUTS;
  pool = createPool(stack.postgres.url(), 4, undefined, { lockTimeoutMs, statementTimeoutMs });
  stack.onStop(() => pool.end());
  controlPlane = await ControlPlane.start(pool, stack.redisServer.url());
  stack.onStop(() => controlPlane.stop());
});

beforeEach(async () => {
  if ((await controlPlane.admin("GET", `/admin/api/sales/${SALE}`)).status === 404) await controlPlane.createSale({ id: SALE, stock: 10 });
});

test("Redis frozen: reads and writes answer, or 503 unavailable with Retry-After, within a few command timeouts; never 500", async () => {
  await controlPlane.createSale({ id: "scheduled-redis", stock: 5, ...DRAFT_TIMES });
  stack.redisServer.freeze();
  let answers: Answer[];
  try {
    answers = await Promise.all(everyCall("redis"));
  } finally {
    stack.redisServer.thaw();
  }
  expectAnsweredOr503(answers);
  // The calls that need Redis said so.
  expect(answers.filter((a) => a.status === 503).map((a) => a.call)).toEqual(expect.arrayContaining([`GET /admin/api/sales/${SALE}`, "POST /admin/api/sales/unavailable-sale/publish"]));
  // Bounded: a lock wait and a Redis call or two, never the stall.
  for (const a of answers) expect(a.ms).toBeLessThan(3 * DEFAULT_REDIS_COMMAND_TIMEOUT_MS);
  // And once Redis answers, they do too.
  expect((await call("GET", `/admin/api/sales/${SALE}`)).status).toBe(200);
});

test("Postgres stopped: every admin call answers 503 unavailable with Retry-After, never 500; it answers again once Postgres is back", async () => {
  await controlPlane.createSale({ id: "scheduled-postgres", stock: 5, ...DRAFT_TIMES });
  await stack.postgres.stop();
  let answers: Answer[];
  try {
    answers = await Promise.all(everyCall("postgres"));
  } finally {
    await stack.postgres.start();
  }
  expectAnsweredOr503(answers);
  expect(answers.filter((a) => a.status !== 503)).toEqual([]);
  await expect(call("GET", `/admin/api/sales/${SALE}`)).resolves.toMatchObject({ status: 200 });
});
