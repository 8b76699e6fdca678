/** The admin UI's one bundle: renders the page its path names. */
import { logout, reason } from "./api";
import { operatorsPage, sessionsPage, tokensPage } from "./identities-page";
import { livePage } from "./live-page";
import { ordersPage } from "./orders-page";
import { reportPage } from "./report-page";
import { saleForm } from "./sale-form";
import { salesList } from "./sales-list";
import { webhooksPage } from "./webhooks-page";

function page(): Promise<void> {
  // The server refused a path that is not valid %-encoding (400) before serving this page.
  const parts = location.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  if (parts[1] === "tokens") return tokensPage();
  if (parts[1] === "operators") return operatorsPage();
  if (parts[1] === "sessions") return sessionsPage();
  if (parts[1] === "webhooks") return webhooksPage();
  // ["admin"], ["admin", "sales", "new"], ["admin", "sales", id], ["admin", "sales", id, "edit" | "orders" | "report"]
  if (parts[2] === "new" && parts.length === 3) return saleForm(undefined);
  if (parts[2] !== undefined && parts[3] === "edit") return saleForm(parts[2]);
  if (parts[2] !== undefined && parts[3] === "orders") return ordersPage(parts[2]);
  if (parts[2] !== undefined && parts[3] === "report") return reportPage(parts[2]);
  if (parts[2] !== undefined) return livePage(parts[2]);
  return salesList();
}

document.getElementById("logout")?.addEventListener("click", () => void logout());
page().catch((err: unknown) => {
  document.getElementById("app")?.replaceChildren(Object.assign(document.createElement("p"), { className: "error", role: "alert", textContent: `This page could not be shown: ${reason(err)}.` }));
});
