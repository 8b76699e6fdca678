/**
 * A sale as an admin submits it: the one schema of the admin API, exported for the admin UI.
 * Written with zod/mini, whose functions tree-shake: the browser bundle carries only the
 * checks used here (classic zod's methods bring all of zod, and `{ z }` every locale).
 */
import * as z from "zod/mini";
import { DEDUCTIONS, type Deduction, type SaleLimits } from "@flash-sale/gateway-lua/core/sale";
import { isValidSaleId } from "@flash-sale/gateway-lua/core/ids";

/** Deductions that hold unpaid orders, and so have a payment timeout. */
const DEDUCTIONS_WITH_PAYMENT_TIMEOUT: readonly Deduction[] = ["payment", "reserve"];

/** Largest value of a Postgres `integer` column. */
const PG_INTEGER_MAX = 2_147_483_647;
/** Ceiling of a rate or burst: far above any real sale, well inside what gateways accept. */
const LIMIT_MAX = 1_000_000;
const NAME_MAX_LENGTH = 200;
/** No C0 control (NUL, tab, line breaks …), DEL or C1 control anywhere. */
const NO_CONTROL_CHARACTERS = /^\P{Cc}*$/u;
/** A queue open for more than a week before its sale, or a pass for more than an hour, is a typo. */
const WAITING_ROOM_LEAD_MAX_SECONDS = 7 * 86400;
const PASS_MAX_SECONDS = 3600;

/** What the server fills in when the admin leaves a field out (from FS_DEFAULT_*). */
export interface SaleDefaults {
  limits: SaleLimits;
}

/** `"a", "b"` joined by `sep`, for messages. */
function quoted(values: readonly string[], sep: string): string {
  return values.map((v) => `"${v}"`).join(sep);
}

/** "is required" when the field is missing, else `text`. */
function unlessMissing(text: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : text);
}

function wholeNumber(text: string, min: number) {
  return z.int({ error: unlessMissing(text) }).check(z.minimum(min, text), z.maximum(PG_INTEGER_MAX, `must be at most ${PG_INTEGER_MAX}`));
}

/** Below one attempt in 100 s a rate is a typo: its Retry-After would be days. */
const RATE_MIN = 0.01;
const RATE_TEXT = `must be a number of attempts per second, at least ${RATE_MIN}`;

function rate() {
  return z
    .number({ error: unlessMissing(RATE_TEXT) })
    .check(z.minimum(RATE_MIN, RATE_TEXT), z.maximum(LIMIT_MAX, `must be at most ${LIMIT_MAX}`));
}

const INSTANT_TEXT = 'must be an ISO 8601 date-time with seconds and a zone, e.g. "2030-01-01T12:00:00Z"';

/** An instant, normalised to ISO 8601 UTC (what shoppers are shown). */
function instant() {
  return z
    .pipe(
      z.iso.datetime({ offset: true, error: unlessMissing(INSTANT_TEXT) }),
      z.transform((s: string) => new Date(s).toISOString()),
    )
    .check(z.refine((s) => Date.parse(s) >= 0, "must be in 1970 or later"));
}

function objectError(issue: { code?: string }): string {
  return issue.code === "unrecognized_keys" ? "is not a known field" : "must be a JSON object";
}

/** Lets a check across fields run on valid values only, and alongside other fields' issues. */
function noIssueIn(...fields: string[]) {
  return (payload: { issues: readonly { path?: readonly PropertyKey[] }[] }) =>
    !payload.issues.some((issue) => fields.includes(String(issue.path?.[0])));
}

export function saleInputSchema(defaults: SaleDefaults) {
  return z
    .strictObject(
      {
        id: z.optional(
          z
            .string({ error: "must be a text" })
            .check(z.refine(isValidSaleId, 'must be 1–64 characters of a-z, 0-9 and "-", not starting with "-"')),
        ),
        name: z
          .string({ error: unlessMissing("must be a text") })
          .check(
            z.trim(),
            z.minLength(1, "must not be empty"),
            z.maxLength(NAME_MAX_LENGTH, `must be at most ${NAME_MAX_LENGTH} characters`),
            // Postgres refuses a NUL outright (a 500); other controls garble pages, logs and CSV.
            z.regex(NO_CONTROL_CHARACTERS, "must not contain control characters (such as NUL, tab or line breaks)"),
          ),
        price: wholeNumber("must be a whole number of minor units (e.g. cents), 0 or more", 0),
        currency: z._default(
          z
            .string({ error: "must be a text" })
            .check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of 3 uppercase letters, e.g. "USD"')),
          "USD",
        ),
        stock: wholeNumber("must be a whole number of units, 1 or more", 1),
        startsAt: instant(),
        endsAt: instant(),
        perUserLimit: z._default(wholeNumber("must be a whole number of units, 1 or more", 1), 1),
        deduction: z.enum(DEDUCTIONS, { error: unlessMissing(`must be one of ${quoted(DEDUCTIONS, ", ")}`) }),
        paymentTimeoutSeconds: z.optional(wholeNumber("must be a whole number of seconds, 1 or more", 1)),
        challenge: z._default(z.boolean({ error: "must be true or false" }), false),
        limits: z.prefault(
          z.strictObject(
            {
              userRatePerSecond: z._default(
                rate(),
                defaults.limits.userRatePerSecond,
              ),
              userBurst: z._default(
                z
                  .int({ error: "must be a whole number of attempts, 0 or more" })
                  .check(
                    z.minimum(0, "must be a whole number of attempts, 0 or more"),
                    z.maximum(LIMIT_MAX, `must be at most ${LIMIT_MAX}`),
                  ),
                defaults.limits.userBurst,
              ),
              admitPerSecond: z._default(
                rate(),
                defaults.limits.admitPerSecond,
              ),
              openUnpaidOrders: z.optional(wholeNumber("must be a whole number of orders, 1 or more", 1)),
            },
            { error: objectError },
          ),
          {},
        ),
        waitingRoom: z.optional(
          z.strictObject(
            {
              opensBeforeSeconds: wholeNumber("must be a whole number of seconds, 0 or more", 0).check(
                z.maximum(WAITING_ROOM_LEAD_MAX_SECONDS, `must be at most ${WAITING_ROOM_LEAD_MAX_SECONDS} seconds`),
              ),
              admitPerSecond: rate(),
              passSeconds: wholeNumber("must be a whole number of seconds, 1 or more", 1).check(
                z.maximum(PASS_MAX_SECONDS, `must be at most ${PASS_MAX_SECONDS} seconds`),
              ),
            },
            { error: objectError },
          ),
        ),
      },
      { error: objectError },
    )
    .check(
      z.refine((sale) => Date.parse(sale.endsAt) > Date.parse(sale.startsAt), {
        path: ["endsAt"],
        message: "must be after startsAt",
        when: noIssueIn("startsAt", "endsAt"),
      }),
      z.refine(
        (sale) =>
          sale.paymentTimeoutSeconds === undefined || DEDUCTIONS_WITH_PAYMENT_TIMEOUT.includes(sale.deduction),
        {
          path: ["paymentTimeoutSeconds"],
          message: `only applies to deduction ${quoted(DEDUCTIONS_WITH_PAYMENT_TIMEOUT, " or ")}`,
          when: noIssueIn("paymentTimeoutSeconds", "deduction"),
        },
      ),
      z.refine(
        (sale) => sale.paymentTimeoutSeconds !== undefined || !DEDUCTIONS_WITH_PAYMENT_TIMEOUT.includes(sale.deduction),
        {
          path: ["paymentTimeoutSeconds"],
          message: "is required with this deduction: how long an order may wait unpaid before it expires",
          when: noIssueIn("paymentTimeoutSeconds", "deduction"),
        },
      ),
      // Deduction `payment` accepts orders without taking units: their number must be bounded.
      // (`limits` is absent when the body is not an object at all: that issue is reported already.)
      z.refine((sale) => (sale.limits?.openUnpaidOrders !== undefined) === (sale.deduction === "payment"), {
        path: ["limits", "openUnpaidOrders"],
        message: 'is required with deduction "payment", and only applies to it: how many orders may wait unpaid at once',
        when: noIssueIn("limits", "deduction"),
      }),
    );
}

/** A sale as the admin sends it. */
export type SaleInput = z.input<ReturnType<typeof saleInputSchema>>;
/** A valid sale with every default filled in; without `id` when the server is to make one. */
export type SaleSettings = z.output<ReturnType<typeof saleInputSchema>>;
