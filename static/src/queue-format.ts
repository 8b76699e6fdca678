/** What the waiting room's panel says (waiting-room.ts): the full picture, and the coarse announcement. */
import { countdownInWords, formatCountdown } from "./format.js";
import type { QueueReply } from "@flash-sale/contract/waiting_room";


export interface QueueDetails {
  headline: string;
  detail: string;
  /** Share of the way to the front, 0 to 1; undefined when there is no place yet. */
  progress: number | undefined;
}

const count = (n: number) => n.toLocaleString("en");
const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

/** "about 3 minutes", "less than a minute": a wait in coarse words. */
export function waitInWords(etaSeconds: number): string {
  return etaSeconds < 60 ? "less than a minute" : `about ${countdownInWords(etaSeconds * 1000)}`;
}

/** A number as said aloud in steps: exact below 10, then to the ten, hundred, thousand. */
export function coarseCount(n: number): number {
  if (n < 10) return n;
  const step = n < 100 ? 10 : n < 1000 ? 100 : 1000;
  return Math.round(n / step) * step;
}

/** Everything the panel shows after a poll; `nowMs` by the server's clock. */
export function queueDetails(q: QueueReply, nowMs: number): QueueDetails {
  switch (q.status) {
    case "waiting":
      if (q.position === undefined) {
        return { headline: "You're in the waiting room.", detail: "The order is drawn at random when the sale starts: everyone who joined before then has the same chance.", progress: undefined };
      }
      // The place counts those still ahead (the join position stays put while they are admitted).
      return {
        headline: `You are number ${count((q.ahead ?? 0) + 1)} in the queue.`,
        detail: `${plural(q.ahead ?? 0, "shopper", "shoppers")} ahead of you · ${waitInWords(q.etaSeconds ?? 0)} to wait`,
        progress: q.position <= 1 ? 1 : (q.position - 1 - (q.ahead ?? 0)) / (q.position - 1),
      };
    case "admitted": {
      const left = Date.parse(q.passExpiresAt ?? "") - nowMs;
      return { headline: "It's your turn: you can buy now.", detail: `Your pass is valid for ${formatCountdown(left)}.`, progress: 1 };
    }
    case "sold_out":
      return { headline: "Sold out.", detail: "Every unit is taken. If one comes back, the queue moves on and this page follows it.", progress: undefined };
    case "ended":
      return q.position === undefined
        ? { headline: "The sale has ended.", detail: "", progress: undefined }
        : { headline: "Your turn has passed.", detail: "Your pass expired unused, and your place went to the next shopper.", progress: undefined };
  }
}

/**
 * What a screen reader hears (a polite live region): said again only when it changes, and it
 * changes in coarse steps (ahead to the ten or hundred, the wait to the minute).
 */
export function queueAnnouncement(q: QueueReply): string {
  switch (q.status) {
    case "waiting":
      if (q.position === undefined) return "You're in the waiting room. The order is drawn at random when the sale starts.";
      if ((q.ahead ?? 0) === 0) return "You're next in the queue.";
      return `About ${count(coarseCount(q.ahead ?? 0))} ahead of you in the queue, ${waitInWords(q.etaSeconds ?? 0)} to wait.`;
    case "admitted":
      return "It's your turn. You can buy now.";
    case "sold_out":
      return "Sold out. Every unit has been sold.";
    case "ended":
      return q.position === undefined ? "The sale has ended." : "Your turn has passed: your pass expired unused.";
  }
}
