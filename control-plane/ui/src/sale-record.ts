/** Reading one sale for a page's header, even while its live stats cannot be read. */
import { api, ApiFailure } from "./api";
import type { SaleView, SaleWithStats } from "./types";

export function salePath(saleId: string): string {
  return `/sales/${encodeURIComponent(saleId)}`;
}

/** The sale, with its stats when they could be read; undefined when there is no such sale. */
export async function readSale(saleId: string): Promise<{ sale: SaleView; stats?: SaleWithStats["stats"] } | undefined> {
  try {
    const { stats, ...sale } = await api<SaleWithStats>("GET", salePath(saleId));
    return { sale, stats };
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 404) return undefined;
    // The sale's read includes its stats (Redis): the list has the record alone, from Postgres.
    const { sales } = await api<{ sales: SaleView[] }>("GET", "/sales");
    const sale = sales.find((s) => s.id === saleId);
    return sale === undefined ? undefined : { sale };
  }
}
