/** What the pages say about a sale, refusals and where they send a shopper to log in: pure, tested in Node. */
import type { PublicSaleView } from "@flash-sale/contract/sale";

/** What a shopper should know before the click: the limit, and the step or queue before buying. */
export function saleTerms(s: Pick<PublicSaleView, "perUserLimit" | "challenge" | "waitingRoom">): string {
  const terms = [s.perUserLimit === 1 ? "One per shopper." : `Up to ${s.perUserLimit} per shopper.`];
  if (s.waitingRoom !== undefined) terms.push("You join a waiting room first, and buy when it is your turn.");
  if (s.challenge) terms.push("Before buying you type six digits from a picture (or answer a text question).");
  return terms.join(" ");
}

/** A purchase refused at the limit, told from the units the shopper already holds there. */
export function limitText(perUserLimit: number, held: number): string {
  if (held >= perUserLimit) return "You already have the most units this sale allows per shopper.";
  return `You hold ${held} of the ${perUserLimit} allowed per shopper: you may buy ${perUserLimit - held} more.`;
}

/**
 * A refusal that is worth another try, in the page's own words: what happened, then when to try
 * again, once (the server's message is not repeated: it says "retry later" itself); with no wait
 * left, that it may be tried now, the explanation kept. Undefined for any other refusal.
 */
export function retryText(error: string, retryAfterSec: number): string | undefined {
  const when = retryAfterSec > 0 ? `Try again in ${retryAfterSec} s.` : "You can try again now.";
  switch (error) {
    case "network":
      return `The connection to the shop failed; nothing was sold. ${when}`;
    case "unavailable":
    case "internal_error":
      return `The shop cannot take orders right now; nothing was sold. ${when}`;
    case "rate_limited":
      return `Too many tries at once. ${when}`;
    case "sale_paused":
      return `The sale is paused for a moment. ${when}`;
    case "sale_busy":
      return `Many orders are waiting for their payment. ${when}`;
    default:
      return undefined;
  }
}

/** The shop's login page (knob shop_login_url) with `{return}` replaced by this page's URL. */
export function loginHref(loginUrl: string, pageUrl: string): string {
  return loginUrl.split("{return}").join(encodeURIComponent(pageUrl));
}

/** Waits between tries to reach the backend: 1, 2, 4, 8, then 15 s. */
export function retryDelaySec(failures: number): number {
  return Math.min(15, 2 ** Math.max(0, failures - 1));
}
