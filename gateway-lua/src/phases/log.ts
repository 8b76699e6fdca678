/**
 * log_by_lua of the public server: counts every answered request by route, sale and outcome
 * and observes its latency (adapters/metrics.ts), a purchase's also by sale (the sale report's
 * percentiles). It runs after the response is sent, so it adds nothing to what the shopper
 * waits for.
 *
 * $fs_route is set per location in nginx.conf; $fs_outcome by the handlers (http/respond.ts)
 * or by nginx's own error pages (errors.conf). A sale label is given only to published sales,
 * so a flood of made-up sale ids cannot grow the metrics.
 */
import { countRequest, observeSalePurchase } from "../adapters/metrics";
import { cachedSale } from "../adapters/sale_cache";

function outcomeOf(outcome: string | undefined, status: number): string {
  if (outcome !== undefined && outcome !== "") return outcome;
  // Static files, and clients that left before the answer (499).
  return status < 400 ? "ok" : "http_" + string.format("%d", status);
}

export function logRequest(this: void): void {
  const route = ngx.var.fs_route ?? "other";
  let sale = "";
  if (route === "purchase" || route === "sale_view" || route === "challenge" || route === "queue") {
    const id = ngx.var.fs_sale_id;
    if (id !== undefined && cachedSale(id) !== undefined) sale = id;
  }
  const seconds = ngx.now() - ngx.req.start_time();
  countRequest(route, sale, outcomeOf(ngx.var.fs_outcome, ngx.status), seconds);
  if (route === "purchase" && sale !== "") observeSalePurchase(sale, seconds);
}
