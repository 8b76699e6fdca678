/** A sale's own keys (contract/redis-scripts/sale/): build, apply, lower, withdraw, move units between buckets. */
import { codeName, declareScript, replyCode, replyList, replyNumber, replyString } from "./script";

/** The last step of a build: answers the run id written into the fence. */
export const OPEN_SALE = declareScript({
  file: "sale/open-sale",
  keys: ["stock", "sold", "paid", "openUnpaid", "orderSeq", "stream", "meta", "statusChanges"],
  args: ["left", "taken", "paidUnits", "openUnpaidOrders", "lastOrderNo", "group", "epoch", "startsAt", "endsAt", "paused", "revision"],
  moreArgs: "bucket",
  codes: {},
  decode: (reply: unknown): string | undefined => (typeof reply === "string" ? reply : undefined),
});

export type ApplyReply =
  | { reply: "applied" | "below_taken" | "undone"; left: number; taken: number; leftBefore: number }
  | { reply: "already_applied"; revision: number }
  | { reply: "held" };

const APPLY_CODES = { applied: 1, below_taken: 2, undone: 3, already_applied: 0, held: -1 } as const;

/** Applies a sale as committed in Postgres (window, pause, units left), ordered by revision. */
export const APPLY_SALE = declareScript({
  file: "sale/apply-sale",
  keys: ["meta", "stock", "sold"],
  args: ["revision", "total", "startsAt", "endsAt", "paused", "undoIntent"],
  codes: APPLY_CODES,
  decode: (reply: unknown): ApplyReply | undefined => {
    const r = replyList(reply);
    const code = replyCode(reply);
    if (r === undefined || code === undefined) return undefined;
    if (code === -1) return { reply: "held" };
    const first = replyNumber(r, 1);
    if (first === undefined) return undefined;
    if (code === 0) return { reply: "already_applied", revision: first };
    const applied = codeName(APPLY_CODES, code);
    const taken = replyNumber(r, 2);
    const leftBefore = replyNumber(r, 3);
    if (applied === undefined || applied === "held" || applied === "already_applied" || taken === undefined || leftBefore === undefined) return undefined;
    return { reply: applied, left: first, taken, leftBefore };
  },
});

export type LowerReply =
  | { reply: "lowered" | "refused"; left: number; taken: number }
  | { reply: "other_intent"; intent: string; revision: number }
  | { reply: "already_applied"; revision: number }
  | { reply: "held" };

/** Takes units out before a lower total is committed, recording the intent. */
export const LOWER_STOCK = declareScript({
  file: "sale/lower-stock",
  keys: ["meta", "stock", "sold"],
  args: ["total", "revision", "intent"],
  codes: { lowered: 1, refused: 0, other_intent: 2, already_applied: 3, held: -1 },
  decode: (reply: unknown): LowerReply | undefined => {
    const r = replyList(reply);
    const code = replyCode(reply);
    if (r === undefined || code === undefined) return undefined;
    if (code === -1) return { reply: "held" };
    if (code === 2) {
      const intent = replyString(r, 1);
      const revision = replyNumber(r, 2);
      return intent === undefined || revision === undefined ? undefined : { reply: "other_intent", intent, revision };
    }
    const first = replyNumber(r, 1);
    if (first === undefined) return undefined;
    if (code === 3) return { reply: "already_applied", revision: first };
    const taken = replyNumber(r, 2);
    if (taken === undefined || (code !== 0 && code !== 1)) return undefined;
    return { reply: code === 1 ? "lowered" : "refused", left: first, taken };
  },
});

export interface BuildState {
  built: boolean;
  seq: number;
  hasStock: boolean;
  buyers: number;
}

/** Whether a sale's state must be (re)built. */
export const SALE_BUILD_STATE = declareScript({
  file: "sale/sale-build-state",
  keys: ["meta", "orderSeq", "stock", "buyers"],
  args: [],
  codes: {},
  decode: (reply: unknown): BuildState | undefined => {
    const r = replyList(reply);
    if (r === undefined) return undefined;
    const built = replyNumber(r, 0);
    const seq = replyNumber(r, 1);
    const hasStock = replyNumber(r, 2);
    const buyers = replyNumber(r, 3);
    if (built === undefined || seq === undefined || hasStock === undefined || buyers === undefined) return undefined;
    return { built: built === 1, seq, hasStock: hasStock === 1, buyers };
  },
});

export type WithdrawReply = { reply: "dropped" } | { reply: "refused"; orders: number; seq: number; unacknowledged: number };

/** Drops a sale's keys for its delete, unless Redis holds orders of it; extra keys: every key of the sale. */
export const WITHDRAW_SALE = declareScript({
  file: "sale/withdraw-sale",
  keys: ["orders", "orderSeq", "stream"],
  moreKeys: "saleKeys",
  args: ["group"],
  codes: { dropped: 1, refused: 0 },
  decode: (reply: unknown): WithdrawReply | undefined => {
    const r = replyList(reply);
    const code = replyCode(reply);
    if (r === undefined) return undefined;
    if (code === 1) return { reply: "dropped" };
    const orders = replyNumber(r, 1);
    const seq = replyNumber(r, 2);
    const unacknowledged = replyNumber(r, 3);
    if (code !== 0 || orders === undefined || seq === undefined || unacknowledged === undefined) return undefined;
    return { reply: "refused", orders, seq, unacknowledged };
  },
});

export type TransferOutReply = { reply: "taken"; units: number; epoch: number } | { reply: "none_left" } | { reply: "held" };

/** The first step of a move between stock buckets: takes the units and records the move. */
export const BUCKET_TRANSFER_OUT = declareScript({
  file: "sale/bucket-transfer-out",
  keys: ["meta", "stock", "transfers"],
  args: ["transferId", "toBucket", "units"],
  codes: { taken: 1, none_left: 0, held: -1 },
  decode: (reply: unknown): TransferOutReply | undefined => {
    const r = replyList(reply);
    const code = replyCode(reply);
    if (r === undefined) return undefined;
    if (code === 0) return { reply: "none_left" };
    if (code === -1) return { reply: "held" };
    const units = replyNumber(r, 1);
    const epoch = replyNumber(r, 2);
    if (code !== 1 || units === undefined || epoch === undefined) return undefined;
    return { reply: "taken", units, epoch };
  },
});

export type TransferInReply = "applied" | "applied_before" | "held" | "rebuilt";

const TRANSFER_IN_CODES: Readonly<Record<TransferInReply, number>> = { applied: 1, applied_before: 0, held: -1, rebuilt: -2 };

/** The second step: adds the units to the target bucket once per transfer id. */
export const BUCKET_TRANSFER_IN = declareScript({
  file: "sale/bucket-transfer-in",
  keys: ["meta", "stock", "transfers"],
  args: ["transferId", "units", "epoch"],
  codes: TRANSFER_IN_CODES,
  decode: (reply: unknown): TransferInReply | undefined => codeName(TRANSFER_IN_CODES, replyCode(reply)),
});
