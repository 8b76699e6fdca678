/** /admin: every sale with its state, times, stock and orders in Postgres. */
import { api } from "./api";
import { el, render } from "./dom";
import { unitsReserved, type SaleView, type SaleWithStats } from "./types";

const COLUMNS = ["Sale", "Status", "Starts", "Ends", "Stock", "Left", "Reserved", "Sold", "Orders in Postgres"];

function row(sale: SaleWithStats): HTMLTableRowElement {
  const cells = [
    sale.state,
    sale.startsAt,
    sale.endsAt,
    String(sale.stock),
    sale.stats.unitsLeft === null ? "not loaded" : String(sale.stats.unitsLeft),
    String(unitsReserved(sale)),
    String(sale.stats.unitsSold),
    String(sale.stats.ordersPersisted),
  ];
  return el(
    "tr",
    { "data-sale": sale.id },
    el("td", {}, el("a", { href: `/admin/sales/${encodeURIComponent(sale.id)}`, text: sale.name }), el("small", { text: ` ${sale.id}` })),
    ...cells.map((text) => el("td", { text })),
  );
}

export async function salesList(): Promise<void> {
  const { sales } = await api<{ sales: SaleView[] }>("GET", "/");
  // The list holds settings only; each sale's counts come with the sale itself.
  const withStats = await Promise.all(sales.map((s) => api<SaleWithStats>("GET", `/${encodeURIComponent(s.id)}`)));
  render(
    el("h1", { text: "Sales" }),
    withStats.length === 0
      ? el("p", { text: "No sales yet." })
      : el(
          "table",
          { id: "sales" },
          el("thead", {}, el("tr", {}, ...COLUMNS.map((text) => el("th", { text })))),
          el("tbody", {}, ...withStats.map(row)),
        ),
  );
}
