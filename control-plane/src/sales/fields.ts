/**
 * The settings of a sale, each declared once (after Kong's plugin schemas): its validator and
 * default, the column it is stored in, whether the gateways get it, whether it is fixed once the
 * sale has started, and how the admin form asks for it. The API's schema (schema.ts), the
 * repository's columns, the settings a PATCH applies to (changes.ts), the record published to
 * the gateways (projection/publisher.ts) and the admin form all read this list: a new setting is a
 * migration, an entry here, the code that uses it and openapi.yaml.
 *
 * Written with zod/mini, whose functions tree-shake: the admin UI bundles this file, and
 * carries only the checks used here (classic zod's methods bring all of zod).
 */
import * as z from "zod/mini";
import { DEDUCTIONS, type SaleLimits } from "@flash-sale/contract/sale";
import { MAX_STOCK_BUCKETS } from "@flash-sale/contract/buckets";

/** What the server fills in when the admin leaves a field out (from FS_DEFAULT_*). */
export interface SaleDefaults {
  limits: SaleLimits;
}

type Check = z.ZodMiniType;

/** How a value is typed in (the admin form) and stored (the repository). */
export type ValueType = "text" | "integer" | "number" | "boolean" | "instant" | "choice" | "object";

/** The value filled in when the field is left out: fixed, or from the server's configuration. */
type Default<S extends Check> = Exclude<z.output<S>, undefined> | ((d: SaleDefaults) => Exclude<z.output<S>, undefined>);

/** One value of a sale, as the API takes it and the admin form asks for it. */
export interface Value<S extends Check = Check> {
  type: ValueType;
  label: string;
  hint?: string;
  /** `choice`: the values offered. */
  choices?: readonly string[];
  /** `choice` without a default: what the admin form preselects for a new sale (the API still asks for it). */
  suggested?: string;
  /** Absent: the admin must give the value, unless it is `optional`. */
  default?: unknown;
  /** May be left out, and then has no value (an object: none of its fields either). */
  optional: boolean;
  /** `object`: its fields. */
  fields?: { [name: string]: Value };
  /** The validator, with the default or optionality applied. */
  schema(defaults: SaleDefaults): S;
}

interface ValueSpec<S extends Check> {
  type: Exclude<ValueType, "object">;
  label: string;
  hint?: string;
  choices?: readonly string[];
  suggested?: string;
  check: S;
}

function value<S extends Check>(spec: ValueSpec<S> & { default: Default<S> }): Value<z.ZodMiniDefault<S>>;
function value<S extends Check>(spec: ValueSpec<S> & { optional: true }): Value<z.ZodMiniOptional<S>>;
function value<S extends Check>(spec: ValueSpec<S>): Value<S>;
function value(spec: ValueSpec<Check> & { default?: Default<Check>; optional?: true }): Value {
  const { check, default: fallback, optional, ...form } = spec;
  return {
    ...form,
    default: fallback,
    optional: optional === true,
    schema: (d) => {
      if (fallback !== undefined) return z._default(check, typeof fallback === "function" ? fallback(d) : fallback);
      return optional === true ? z.optional(check) : check;
    },
  };
}

type Values = { [name: string]: Value };
type Schemas<F extends Values> = { [K in keyof F]: ReturnType<F[K]["schema"]> };
type Group<F extends Values> = z.ZodMiniObject<Schemas<F>, z.core.$strict>;

function schemasOf<F extends Values>(fields: F, d: SaleDefaults): Schemas<F> {
  return Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.schema(d)])) as Schemas<F>;
}

export function objectError(issue: { code?: string }): string {
  return issue.code === "unrecognized_keys" ? "is not a known field" : "must be a JSON object";
}

interface GroupSpec<F extends Values> {
  label: string;
  hint?: string;
  fields: F;
}

/** An object of values; when left out, its fields take their defaults (or it is absent, `optional`). */
function group<F extends Values>(spec: GroupSpec<F> & { optional: true }): Value<z.ZodMiniOptional<Group<F>>>;
function group<F extends Values>(spec: GroupSpec<F>): Value<z.ZodMiniPrefault<Group<F>>>;
function group(spec: GroupSpec<Values> & { optional?: true }): Value {
  const { fields, optional, ...form } = spec;
  const object = (d: SaleDefaults) => z.strictObject(schemasOf(fields, d), { error: objectError });
  return {
    ...form,
    type: "object",
    fields,
    optional: optional === true,
    schema: (d) => (optional === true ? z.optional(object(d)) : z.prefault(object(d), {})),
  };
}

/** A top-level value of a sale: one column of `sales`. */
export interface Setting<S extends Check = Check, P extends boolean = boolean> extends Value<S> {
  column: string;
  /** In the record the gateways read (core/sale.ts parses it). */
  published: P;
  /** Why a started sale keeps the value (compared with ===: a plain value); absent when it may change. */
  fixedOnceStarted?(before: z.output<S>): string;
}

interface Storage<S extends Check, P extends boolean> {
  column: string;
  published: P;
  fixedOnceStarted?: (before: z.output<S>) => string;
}

function setting<S extends Check, const P extends boolean>(storage: Storage<S, P>, v: Value<S>): Setting<S, P> {
  return { ...v, ...storage };
}

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

/** `"a", "b"` joined by `sep`, for messages. */
export function quoted(values: readonly string[], sep: string): string {
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

/** In the order the admin form shows them. */
export const SALE_SETTINGS = {
  name: setting(
    { column: "name", published: true },
    value({
      type: "text",
      label: "Name",
      check: z
        .string({ error: unlessMissing("must be a text") })
        .check(
          z.trim(),
          z.minLength(1, "must not be empty"),
          z.maxLength(NAME_MAX_LENGTH, `must be at most ${NAME_MAX_LENGTH} characters`),
          // Postgres refuses a NUL outright (a 500); other controls garble pages, logs and CSV.
          z.regex(NO_CONTROL_CHARACTERS, "must not contain control characters (such as NUL, tab or line breaks)"),
        ),
    }),
  ),
  price: setting(
    { column: "price", published: true },
    // Not fixed once started (a shop may correct a mistake): each order keeps the price it was accepted at.
    value({
      type: "integer",
      label: "Price (minor units, e.g. cents)",
      hint: "a change reaches purchases once gateways have it; orders keep the price they were bought at",
      check: wholeNumber("must be a whole number of minor units (e.g. cents), 0 or more", 0),
    }),
  ),
  currency: setting(
    { column: "currency", published: true },
    value({
      type: "text",
      label: "Currency",
      default: "USD",
      check: z
        .string({ error: "must be a text" })
        .check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of 3 uppercase letters, e.g. "USD"')),
    }),
  ),
  stock: setting(
    { column: "stock", published: true },
    value({ type: "integer", label: "Stock (units)", check: wholeNumber("must be a whole number of units, 1 or more", 1) }),
  ),
  startsAt: setting(
    { column: "starts_at", published: true, fixedOnceStarted: (before) => `cannot move: the sale started at ${before}` },
    value({ type: "instant", label: "Starts at", check: instant() }),
  ),
  endsAt: setting({ column: "ends_at", published: true }, value({ type: "instant", label: "Ends at", check: instant() })),
  perUserLimit: setting(
    { column: "per_user_limit", published: true },
    value({ type: "integer", label: "Units per shopper", default: 1, check: wholeNumber("must be a whole number of units, 1 or more", 1) }),
  ),
  deduction: setting(
    { column: "deduction", published: true, fixedOnceStarted: (before) => `cannot change once the sale has started (it is "${before}")` },
    value({
      type: "choice",
      label: "Deduction",
      choices: DEDUCTIONS,
      // When money is taken is the operator's choice in the API; the form offers the plainest.
      suggested: "order",
      check: z.enum(DEDUCTIONS, { error: unlessMissing(`must be one of ${quoted(DEDUCTIONS, ", ")}`) }),
    }),
  ),
  paymentTimeoutSeconds: setting(
    { column: "payment_timeout_seconds", published: true },
    value({ type: "integer", label: "Payment timeout (s)", optional: true, check: wholeNumber("must be a whole number of seconds, 1 or more", 1) }),
  ),
  challenge: setting(
    { column: "challenge", published: true },
    value({ type: "boolean", label: "Challenge before purchase", default: false, check: z.boolean({ error: "must be true or false" }) }),
  ),
  limits: setting(
    { column: "limits", published: true },
    group({
      label: "Limits",
      fields: {
        userRatePerSecond: value({ type: "number", label: "Attempts per shopper per second", default: (d) => d.limits.userRatePerSecond, check: rate() }),
        userBurst: value({
          type: "integer",
          label: "Shopper burst",
          default: (d) => d.limits.userBurst,
          check: z
            .int({ error: "must be a whole number of attempts, 0 or more" })
            .check(z.minimum(0, "must be a whole number of attempts, 0 or more"), z.maximum(LIMIT_MAX, `must be at most ${LIMIT_MAX}`)),
        }),
        admitPerSecond: value({ type: "number", label: "Admitted attempts per second", default: (d) => d.limits.admitPerSecond, check: rate() }),
        openUnpaidOrders: value({
          type: "integer",
          label: "Open unpaid orders",
          hint: "deduction payment only",
          optional: true,
          check: wholeNumber("must be a whole number of orders, 1 or more", 1),
        }),
      },
    }),
  ),
  waitingRoom: setting(
    { column: "waiting_room", published: true },
    group({
      label: "Waiting room",
      hint: "shoppers queue first, and are let in at a rate from the start",
      optional: true,
      fields: {
        opensBeforeSeconds: value({
          type: "integer",
          label: "Queue opens before the start (s)",
          check: wholeNumber("must be a whole number of seconds, 0 or more", 0).check(
            z.maximum(WAITING_ROOM_LEAD_MAX_SECONDS, `must be at most ${WAITING_ROOM_LEAD_MAX_SECONDS} seconds`),
          ),
        }),
        admitPerSecond: value({ type: "number", label: "Shoppers let in per second", check: rate() }),
        passSeconds: value({
          type: "integer",
          label: "Pass valid for (s)",
          check: wholeNumber("must be a whole number of seconds, 1 or more", 1).check(
            z.maximum(PASS_MAX_SECONDS, `must be at most ${PASS_MAX_SECONDS} seconds`),
          ),
        }),
      },
    }),
  ),
  stockBuckets: setting(
    { column: "stock_buckets", published: true, fixedOnceStarted: (before) => `cannot change once the sale has started (it is ${before})` },
    value({
      type: "integer",
      label: "Stock buckets",
      hint: "a hot sale's stock split over this many Redis Cluster slots; deduction order only, no waiting room",
      default: 1,
      check: z
        .int({ error: `must be a whole number from 1 to ${MAX_STOCK_BUCKETS}` })
        .check(z.minimum(1, `must be a whole number from 1 to ${MAX_STOCK_BUCKETS}`), z.maximum(MAX_STOCK_BUCKETS, `must be a whole number from 1 to ${MAX_STOCK_BUCKETS}`)),
    }),
  ),
};

type Settings = typeof SALE_SETTINGS;
export type SettingName = keyof Settings;
export type SettingsShape = { [K in SettingName]: ReturnType<Settings[K]["schema"]> };
/** The settings the gateways get. */
export type PublishedName = { [K in SettingName]: Settings[K]["published"] extends true ? K : never }[SettingName];

/** Every setting with its name, in the list's order. */
export const SETTINGS: readonly (Setting & { name: SettingName })[] = Object.entries(SALE_SETTINGS).map(([name, s]) => ({ ...s, name: name as SettingName }));
export const SETTING_NAMES: readonly SettingName[] = SETTINGS.map((s) => s.name);
export const PUBLISHED_NAMES = SETTINGS.filter((s) => s.published).map((s) => s.name) as readonly PublishedName[];

export function settingsShape(d: SaleDefaults): SettingsShape {
  return schemasOf(SALE_SETTINGS, d);
}

/** The members `names` of `values` that it has (undefined ones left out, as JSON leaves them). */
export function pickValues<T extends object, K extends keyof T>(values: T, names: readonly K[]): Pick<T, K> {
  return Object.fromEntries(names.filter((name) => values[name] !== undefined).map((name) => [name, values[name]])) as Pick<T, K>;
}
