/** The admin UI's one bundle: renders the page its path names. */
import { logout } from "./api";
import { livePage } from "./live-page";
import { saleForm } from "./sale-form";
import { salesList } from "./sales-list";

function page(): Promise<void> {
  const parts = location.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  // ["admin"], ["admin", "sales", "new"], ["admin", "sales", id], ["admin", "sales", id, "edit"]
  if (parts[2] === "new" && parts.length === 3) return saleForm(undefined);
  if (parts[2] !== undefined && parts[3] === "edit") return saleForm(parts[2]);
  if (parts[2] !== undefined) return livePage(parts[2]);
  return salesList();
}

document.getElementById("logout")?.addEventListener("click", () => void logout());
page().catch((err: unknown) => {
  document.getElementById("app")?.replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: String(err) }));
});
