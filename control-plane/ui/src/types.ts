/** What the admin API answers, as the pages read it (the server's own types). */
import type { SaleState } from "../../src/sales/lifecycle";
import type { LiveStats } from "../../src/projection/live-stats";
import type { Sale } from "../../src/store/sale-repository";

export type { SaleTraffic } from "../../src/projection/traffic";
export type { SaleReport } from "../../src/store/sale-report";
export type { RecordedAuditEntry } from "../../src/store/audit-log";
export type { OrderRow, OrdersPage, SaleStatsEntry } from "../../src/api/console-routes";

export type SaleView = Sale & { state: SaleState };
export type SaleWithStats = SaleView & { stats: LiveStats };

/** Units held by unpaid orders of a `reserve` sale (its sold units include them). */
export function unitsReserved(sale: Pick<Sale, "deduction">, stats: LiveStats): number {
  return sale.deduction === "reserve" ? stats.unitsSold - stats.unitsPaid : 0;
}
