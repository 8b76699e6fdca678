/** What the admin API answers, as the pages read it (the server's own types). */
import type { SaleState } from "../../src/sales/lifecycle";
import type { LiveStats } from "../../src/sales/live-stats";
import type { Sale } from "../../src/sales/repository";

export type { SaleTraffic } from "../../src/sales/traffic";
export type { SaleReport } from "../../src/sales/report";
export type { RecordedAuditEntry } from "../../src/sales/audit-log";
export type { OrderRow, OrdersPage, SaleStatsEntry } from "../../src/sales/console-routes";

export type SaleView = Sale & { state: SaleState };
export type SaleWithStats = SaleView & { stats: LiveStats };

/** Units held by unpaid orders of a `reserve` sale (its sold units include them). */
export function unitsReserved(sale: Pick<Sale, "deduction">, stats: LiveStats): number {
  return sale.deduction === "reserve" ? stats.unitsSold - stats.unitsPaid : 0;
}
