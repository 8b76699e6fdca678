/** A sale's waiting room (contract/redis-scripts/queue/): a shopper's place, the admission cursor. */
import { codeName, declareScript, replyCode, replyList, replyNumber } from "./script";

const PLACE_CODES = { drawn_at_start: 0, not_in_queue: -1, not_built: -2, limit_reached: -3 } as const;

/** A place (position 0: joined before the start, drawn at it), or why there is none. */
export type PlaceReply =
  | { reply: "place"; position: number; length: number; epoch: number }
  | { reply: "not_in_queue" | "not_built" | "limit_reached" };

/** Joins the queue (one place per shopper, a new one at the back after a turn over unused) or looks the place up. */
export const QUEUE_PLACE = declareScript({
  file: "queue/queue-place",
  keys: ["meta", "queue", "queueState", "buyers", "stock"],
  args: ["userId", "mode", "score", "perUserLimit"],
  codes: PLACE_CODES,
  decode: (reply: unknown): PlaceReply | undefined => {
    const r = replyList(reply);
    const name = codeName(PLACE_CODES, replyCode(reply));
    if (r === undefined) return undefined;
    if (name !== undefined && name !== "drawn_at_start") return { reply: name };
    const position = replyNumber(r, 0);
    const length = replyNumber(r, 1);
    const epoch = replyNumber(r, 2);
    if (position === undefined || position < 0 || length === undefined || epoch === undefined) return undefined;
    return { reply: "place", position, length, epoch };
  },
});

/** The queue's state then the admissions (cursor, ms pairs) as the script lists them, or not built. */
export type TickReply = { reply: "state"; values: number[] } | { reply: "not_built" };

/** Advances the admission cursor (every gateway worker's sync timer). */
export const QUEUE_TICK = declareScript({
  file: "queue/queue-tick",
  keys: ["meta", "queueState", "queue", "admissions", "stock", "buyers"],
  args: ["admitPerSecond", "passAndGraceMs", "knownCursor", "knownEpoch"],
  codes: { not_built: -1 },
  decode: (reply: unknown): TickReply | undefined => {
    const r = replyList(reply);
    if (r === undefined) return undefined;
    return replyCode(r) === -1 ? { reply: "not_built" } : { reply: "state", values: r as number[] };
  },
});
