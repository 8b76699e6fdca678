/** A sale as an admin submits it: the one schema of the admin API, exported for the admin UI. */
import { z } from "zod";
import { DEDUCTIONS, type Deduction, type SaleLimits } from "@flash-sale/gateway-lua/core/sale";
import { isValidSaleId } from "@flash-sale/gateway-lua/core/ids";

/** Deductions that hold unpaid orders, and so have a payment timeout. */
const DEDUCTIONS_WITH_PAYMENT_TIMEOUT: readonly Deduction[] = ["payment", "reserve"];

/** Largest value of a Postgres `integer` column. */
const PG_INTEGER_MAX = 2_147_483_647;
/** Ceiling of a rate or burst: far above any real sale, well inside what gateways accept. */
const LIMIT_MAX = 1_000_000;
const NAME_MAX_LENGTH = 200;
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
  return z
    .int({ error: unlessMissing(text) })
    .min(min, text)
    .max(PG_INTEGER_MAX, `must be at most ${PG_INTEGER_MAX}`);
}

/** Below one attempt in 100 s a rate is a typo: its Retry-After would be days. */
const RATE_MIN = 0.01;

function rate(text: string) {
  return z
    .number({ error: unlessMissing(text) })
    .positive(text)
    .min(RATE_MIN, `must be at least ${RATE_MIN} attempts per second`)
    .max(LIMIT_MAX, `must be at most ${LIMIT_MAX}`);
}

const INSTANT_TEXT = 'must be an ISO 8601 date-time with seconds and a zone, e.g. "2030-01-01T12:00:00Z"';

/** An instant, normalised to ISO 8601 UTC (what shoppers are shown). */
function instant() {
  return z
    .iso.datetime({ offset: true, error: unlessMissing(INSTANT_TEXT) })
    .transform((s) => new Date(s).toISOString())
    .refine((s) => Date.parse(s) >= 0, "must be in 1970 or later");
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
        id: z
          .string({ error: "must be a text" })
          .refine(isValidSaleId, 'must be 1–64 characters of a-z, 0-9 and "-", not starting with "-"')
          .optional(),
        name: z
          .string({ error: unlessMissing("must be a text") })
          .trim()
          .min(1, "must not be empty")
          .max(NAME_MAX_LENGTH, `must be at most ${NAME_MAX_LENGTH} characters`),
        price: wholeNumber("must be a whole number of minor units (e.g. cents), 0 or more", 0),
        currency: z
          .string({ error: "must be a text" })
          .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of 3 uppercase letters, e.g. "USD"')
          .default("USD"),
        stock: wholeNumber("must be a whole number of units, 1 or more", 1),
        startsAt: instant(),
        endsAt: instant(),
        perUserLimit: wholeNumber("must be a whole number of units, 1 or more", 1).default(1),
        deduction: z.enum(DEDUCTIONS, { error: unlessMissing(`must be one of ${quoted(DEDUCTIONS, ", ")}`) }),
        paymentTimeoutSeconds: wholeNumber("must be a whole number of seconds, 1 or more", 1).optional(),
        challenge: z.boolean({ error: "must be true or false" }).default(false),
        limits: z
          .strictObject(
            {
              userRatePerSecond: rate("must be a number of attempts per second above 0").default(
                defaults.limits.userRatePerSecond,
              ),
              userBurst: z
                .int({ error: "must be a whole number of attempts, 0 or more" })
                .min(0, "must be a whole number of attempts, 0 or more")
                .max(LIMIT_MAX, `must be at most ${LIMIT_MAX}`)
                .default(defaults.limits.userBurst),
              admitPerSecond: rate("must be a number of attempts per second above 0").default(
                defaults.limits.admitPerSecond,
              ),
              openUnpaidOrders: wholeNumber("must be a whole number of orders, 1 or more", 1).optional(),
            },
            { error: objectError },
          )
          .prefault({}),
        waitingRoom: z
          .strictObject(
            {
              opensBeforeSeconds: wholeNumber("must be a whole number of seconds, 0 or more", 0).max(
                WAITING_ROOM_LEAD_MAX_SECONDS,
                `must be at most ${WAITING_ROOM_LEAD_MAX_SECONDS} seconds`,
              ),
              admitPerSecond: rate("must be a number of shoppers per second above 0"),
              passSeconds: wholeNumber("must be a whole number of seconds, 1 or more", 1).max(
                PASS_MAX_SECONDS,
                `must be at most ${PASS_MAX_SECONDS} seconds`,
              ),
            },
            { error: objectError },
          )
          .optional(),
      },
      { error: objectError },
    )
    .refine((sale) => Date.parse(sale.endsAt) > Date.parse(sale.startsAt), {
      path: ["endsAt"],
      message: "must be after startsAt",
      when: noIssueIn("startsAt", "endsAt"),
    })
    .refine(
      (sale) =>
        sale.paymentTimeoutSeconds === undefined || DEDUCTIONS_WITH_PAYMENT_TIMEOUT.includes(sale.deduction),
      {
        path: ["paymentTimeoutSeconds"],
        message: `only applies to deduction ${quoted(DEDUCTIONS_WITH_PAYMENT_TIMEOUT, " or ")}`,
        when: noIssueIn("paymentTimeoutSeconds", "deduction"),
      },
    )
    .refine(
      (sale) => sale.paymentTimeoutSeconds !== undefined || !DEDUCTIONS_WITH_PAYMENT_TIMEOUT.includes(sale.deduction),
      {
        path: ["paymentTimeoutSeconds"],
        message: "is required with this deduction: how long an order may wait unpaid before it expires",
        when: noIssueIn("paymentTimeoutSeconds", "deduction"),
      },
    )
    // Deduction `payment` accepts orders without taking units: their number must be bounded.
    // (`limits` is absent when the body is not an object at all: that issue is reported already.)
    .refine((sale) => (sale.limits?.openUnpaidOrders !== undefined) === (sale.deduction === "payment"), {
      path: ["limits", "openUnpaidOrders"],
      message: 'is required with deduction "payment", and only applies to it: how many orders may wait unpaid at once',
      when: noIssueIn("limits", "deduction"),
    });
}

/** A sale as the admin sends it. */
export type SaleInput = z.input<ReturnType<typeof saleInputSchema>>;
/** A valid sale with every default filled in; without `id` when the server is to make one. */
export type SaleSettings = z.output<ReturnType<typeof saleInputSchema>>;
