/**
 * Local sign-in hardening (issue 25): a TOTP code is taken once (RFC 6238 5.2), on any instance,
 * and a code of an earlier step than the last one taken is refused too; a name that does not
 * exist (or a disabled account) is answered after the same argon2 work as a wrong password, so
 * the answer's time does not tell which names exist.
 */
import { Secret, TOTP } from "otpauth";
import { TestStack } from "./support/test-stack";
import { useStack } from "./support/use-stack";
import type { ServedApp } from "./support/admin-app";
import { adminCall } from "./support/control-plane";

jest.setTimeout(60_000);

/** No sign-in is held back here: what is measured is the check itself. */
const NO_THROTTLE = { addressThreshold: 10_000, accountThreshold: 10_000, baseWaitMs: 1000, maxWaitMs: 1000, windowMs: 3600_000 };
const PASSWORD = "a long enough password";

let one: ServedApp;
let other: ServedApp;

const stack = useStack(new TestStack({ name: "admin_login_hardening", gateway: false, controlPlane: false }), async () => {
  one = await stack.serveAdminApp({ loginThrottle: NO_THROTTLE });
  other = await stack.serveAdminApp({ loginThrottle: NO_THROTTLE });
});

/** Posts the login form; its status. */
async function signIn(url: string, form: Record<string, string>): Promise<number> {
  const res = await fetch(`${url}/admin/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams(form).toString(),
    redirect: "manual",
  });
  await res.arrayBuffer();
  return res.status;
}

async function createOperator(body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await adminCall(one.url, "POST", "/admin/api/operators", body);
  if (res.status !== 201) throw new Error(`operator: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

describe("a TOTP code", () => {
  it("signs in once; the same code again, on any instance, and a code of an earlier step are refused", async () => {
    const { totpSecret } = await createOperator({ name: "root", role: "admin", password: PASSWORD });
    const totp = new TOTP({ secret: Secret.fromBase32(totpSecret) });
    const now = Date.now();
    const current = totp.generate({ timestamp: now });
    // The code of the next step: accepted within the drift window, and later than `current`.
    const next = totp.generate({ timestamp: now + 30_000 });

    expect(await signIn(one.url, { login: "root", password: PASSWORD, code: current })).toBe(303);
    expect(await signIn(one.url, { login: "root", password: PASSWORD, code: current })).toBe(401);
    expect(await signIn(other.url, { login: "root", password: PASSWORD, code: current })).toBe(401);
    expect(await signIn(other.url, { login: "root", password: PASSWORD, code: next })).toBe(303);
    expect(await signIn(one.url, { login: "root", password: PASSWORD, code: current })).toBe(401);
    expect(await signIn(one.url, { login: "root", password: PASSWORD, code: next })).toBe(401);
  });

  it("of a new secret is taken afresh", async () => {
    const operators = (await adminCall(one.url, "GET", "/admin/api/operators")).body.operators;
    const root = operators.find((o: { name: string }) => o.name === "root");
    const changed = await adminCall(one.url, "PATCH", `/admin/api/operators/${root.id}`, { totp: true });
    const totp = new TOTP({ secret: Secret.fromBase32(changed.body.totpSecret) });
    const { rows } = await stack.db.pool.query("SELECT totp_last_step FROM operators WHERE name = 'root'");
    expect(rows).toEqual([{ totp_last_step: null }]);
    expect(await signIn(one.url, { login: "root", password: PASSWORD, code: totp.generate() })).toBe(303);
  });
});

describe("a name that does not exist", () => {
  it("is answered after as much work as a wrong password", async () => {
    await createOperator({ name: "known", role: "viewer", password: PASSWORD });
    await createOperator({ name: "retired", role: "viewer", password: PASSWORD, disabled: true });
    const tries = { wrong: [] as number[], unknown: [] as number[], disabled: [] as number[] };
    const forms = { wrong: { login: "known", password: "not the password" }, unknown: { login: "nobody", password: "not the password" }, disabled: { login: "retired", password: PASSWORD } };
    // Interleaved, so that whatever else loads the machine weighs on each alike; the first round
    // warms up. The quickest of each is its own work, with the least of the machine's other load.
    for (let round = 0; round < 16; round++) {
      for (const kind of ["wrong", "unknown", "disabled"] as const) {
        const started = performance.now();
        expect(await signIn(one.url, forms[kind])).toBe(401);
        if (round > 0) tries[kind].push(performance.now() - started);
      }
    }
    const [wrong, unknown, disabled] = [tries.wrong, tries.unknown, tries.disabled].map((t) => Math.min(...t)) as [number, number, number];
    // Without the argon2 work a refusal of no account took about a third of a wrong password's (5 ms, 16 ms).
    expect(unknown).toBeGreaterThan(wrong * 0.6);
    expect(disabled).toBeGreaterThan(wrong * 0.6);
  });
});
