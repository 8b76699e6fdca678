/** What the gateways read (contract/redis-scripts/config/): sale configs and the identity provider's key set. */
import { codeName, declareScript, replyCode, replyList, replyNumber } from "./script";

/** {code, n}: the code's name and n. */
function codeAndNumber<C extends Readonly<Record<string, number>>>(codes: C, reply: unknown): { name: keyof C & string; n: number } | undefined {
  const r = replyList(reply);
  const name = codeName(codes, replyCode(reply));
  const n = r === undefined ? undefined : replyNumber(r, 1);
  return name === undefined || n === undefined ? undefined : { name, n };
}

const PUBLISH_CODES = { published: 1, kept: 0 } as const;
const JWKS_CODES = { written: 1, later_written: 0 } as const;

/** A sale's record written with a new version, or kept (one of the same or a newer revision in place). */
export type PublishReply = { reply: "published" | "kept"; version: number };

/** Publishes one sale's config, ordered by its revision. */
export const PUBLISH_CONFIG = declareScript({
  file: "config/publish-config",
  keys: ["version", "configs", "epoch", "withdrawals"],
  args: ["saleId", "record"],
  codes: PUBLISH_CODES,
  decode: (reply: unknown): PublishReply | undefined => {
    const d = codeAndNumber(PUBLISH_CODES, reply);
    return d === undefined ? undefined : { reply: d.name, version: d.n };
  },
});

/** Withdraws one sale's config: answers the new config version. */
export const UNPUBLISH_CONFIG = declareScript({
  file: "config/unpublish-config",
  keys: ["version", "configs", "epoch", "withdrawals"],
  args: ["saleId"],
  codes: {},
  decode: (reply: unknown): number | undefined => (typeof reply === "number" ? reply : undefined),
});

/** The set written, or a later fetch's was: the fetch number either way. */
export type JwksReply = { reply: "written" | "later_written"; fetch: number };

/** Publishes the identity provider's key set, ordered by fetch. */
export const PUBLISH_JWKS = declareScript({
  file: "config/publish-jwks",
  keys: ["jwks"],
  args: ["fetch", "stamp", "set"],
  codes: JWKS_CODES,
  decode: (reply: unknown): JwksReply | undefined => {
    const d = codeAndNumber(JWKS_CODES, reply);
    return d === undefined ? undefined : { reply: d.name, fetch: d.n };
  },
});
