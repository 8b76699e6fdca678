/** The sale list's order and labels: pure, tested in Node. */
import type { PublicSaleView, PublicSaleStatus } from "@flash-sale/contract/sale";

/** On sale now first, then coming, then sold out; ended last. */
const RANK: Record<PublicSaleStatus, number> = { active: 0, paused: 0, upcoming: 1, sold_out: 2, ended: 3 };

/**
 * The sales in the order a shopper wants them: open ones ending soonest first, then upcoming
 * ones starting soonest, sold-out ones, and ended ones, the latest ended first.
 */
export function orderedSales(sales: readonly PublicSaleView[]): PublicSaleView[] {
  const key = (s: PublicSaleView): number => {
    if (s.status === "upcoming") return Date.parse(s.startsAt);
    if (s.status === "ended") return -Date.parse(s.endsAt);
    return Date.parse(s.endsAt);
  };
  return [...sales].sort((a, b) => RANK[a.status] - RANK[b.status] || key(a) - key(b) || (a.id < b.id ? -1 : 1));
}

/** Names that more than one sale bears: those sales need their start and id to be told apart. */
export function sharedNames(sales: readonly { name: string }[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const s of sales) (seen.has(s.name) ? shared : seen).add(s.name);
  return shared;
}
