/**
 * The webhooks' page: the shop's endpoints (operators read), and for admins a form to add one,
 * and per endpoint disable/enable, delete, rotate the secret and replay. A secret is shown once,
 * in the answer that made it. Each endpoint's deliveries open below the list on request.
 */
import { EVENT_TYPES } from "../../src/webhooks/events";
import { api, reason } from "./api";
import { el, render } from "./dom";
import { fromLocalInput, instantText } from "./format";
import { mayCall, myRole } from "./role";

interface Endpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
}

interface Delivery {
  eventId: string;
  type: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

function status(text: string, error = false): HTMLParagraphElement {
  return el("p", error ? { class: "error", role: "alert", text } : { role: "status", text });
}

/** The secret in the answer that made it: the API never shows it again. */
function secretShown(what: string, secret: string): HTMLParagraphElement {
  return el("p", { role: "status" }, `${what} Its signing secret, shown this once (copy it into the receiver now): `, el("code", { id: "new-secret", text: secret }));
}

function button(text: string, cls: string, onClick: () => void): HTMLButtonElement {
  const b = el("button", { type: "button", class: cls, text });
  b.addEventListener("click", onClick);
  return b;
}

function lastAnswer(d: Delivery): string {
  if (d.attempts === 0) return "not tried yet";
  return d.lastStatus === null ? (d.lastError ?? "no answer") : `HTTP ${d.lastStatus}`;
}

async function deliveries(endpoint: Endpoint): Promise<HTMLElement> {
  const { deliveries: list } = await api<{ deliveries: Delivery[] }>("GET", `/webhooks/${endpoint.id}/deliveries`);
  const rows = list.map((d) =>
    el(
      "tr",
      {},
      el("td", { text: d.eventId }),
      el("td", { text: d.type }),
      el("td", { class: "attempts", text: String(d.attempts) }),
      el("td", { class: "last-answer", text: lastAnswer(d) }),
      el("td", { class: "next-try", text: d.deliveredAt !== null ? `delivered ${instantText(d.deliveredAt)}` : d.nextAttemptAt === null ? "" : instantText(d.nextAttemptAt) }),
    ),
  );
  return el(
    "section",
    { id: "deliveries" },
    el("h2", { text: `Deliveries to ${endpoint.url}` }),
    rows.length === 0
      ? el("p", { text: "No deliveries yet." })
      : el("table", { class: "cards" }, el("thead", {}, el("tr", {}, ...["Event", "Type", "Attempts", "Last answer", "Next try"].map((h) => el("th", { text: h })))), el("tbody", {}, ...rows)),
  );
}

export async function webhooksPage(message?: Node, shown?: Endpoint): Promise<void> {
  const { endpoints } = await api<{ endpoints: Endpoint[] }>("GET", "/webhooks");
  const role = myRole();
  const may = (method: string, path: string): boolean => mayCall(role, method, path);
  // A refused change is told above the list, drawn again; a list that cannot be read, alone.
  const failed = (err: unknown): void => void webhooksPage(status(reason(err), true)).catch((again: unknown) => render(status(reason(again), true)));
  const below = shown === undefined ? [] : [await deliveries(shown)];

  const actions = (e: Endpoint): Node[] => {
    const path = `/webhooks/${e.id}`;
    const out: Node[] = [button("Deliveries", "show-deliveries", () => void webhooksPage(undefined, e).catch(failed))];
    if (may("PATCH", path)) {
      out.push(button(e.enabled ? "Disable" : "Enable", "toggle", () => {
        api("PATCH", path, { enabled: !e.enabled }).then(() => webhooksPage(status(`${e.url} ${e.enabled ? "disabled" : "enabled"}.`)), failed);
      }));
    }
    if (may("POST", `${path}/rotate-secret`)) {
      out.push(button("Rotate secret", "rotate", () => {
        if (!confirm(`Rotate the secret of ${e.url}? The old one signs beside the new one for a day.`)) return;
        api<{ secret: string }>("POST", `${path}/rotate-secret`, {}).then((r) => webhooksPage(secretShown(`Secret of ${e.url} rotated.`, r.secret)), failed);
      }));
    }
    if (may("POST", `${path}/replay`)) {
      const since = el("input", { type: "datetime-local", class: "replay-since", required: "", "aria-label": `Replay to ${e.url} since` });
      const form = el("form", { class: "replay" }, since, el("button", { type: "submit", text: "Replay since" }));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const iso = fromLocalInput(since.value);
        if (iso === undefined) return;
        api<{ replayed: number }>("POST", `${path}/replay`, { since: iso }).then((r) => webhooksPage(status(`${r.replayed} ${r.replayed === 1 ? "event" : "events"} queued again for ${e.url}.`), e), failed);
      });
      out.push(form);
    }
    if (may("DELETE", path)) {
      out.push(button("Delete", "danger delete", () => {
        if (!confirm(`Delete the endpoint ${e.url}? Its deliveries go with it.`)) return;
        api("DELETE", path).then(() => webhooksPage(status(`${e.url} deleted.`)), failed);
      }));
    }
    return out;
  };

  const rows = endpoints.map((e) =>
    el(
      "tr",
      { "data-id": e.id },
      el("td", { "data-label": "URL", class: "url" }, el("code", { text: e.url })),
      el("td", { "data-label": "Events", text: e.events.join(", ") }),
      el("td", { "data-label": "State", class: "state", text: e.enabled ? "enabled" : `disabled${e.disabledReason === null ? "" : ` (${e.disabledReason})`}` }),
      el("td", { "data-label": "Description", text: e.description ?? "" }),
      el("td", { class: "actions" }, ...actions(e)),
    ),
  );

  render(
    el("h1", { text: "Webhooks" }),
    ...(message === undefined ? [] : [message]),
    endpoints.length === 0
      ? el("p", { text: "No endpoint is registered." })
      : el("table", { id: "webhooks", class: "cards" }, el("thead", {}, el("tr", {}, ...["URL", "Events", "State", "Description", ""].map((h) => el("th", { text: h })))), el("tbody", {}, ...rows)),
    ...below,
    ...(may("POST", "/webhooks") ? [createForm()] : []),
  );
}

function createForm(): HTMLElement {
  const url = el("input", { id: "webhook-url", type: "url", required: "", placeholder: "https://shop.example/hooks" });
  const boxes = EVENT_TYPES.map((type) => el("input", { type: "checkbox", name: "events", value: type, checked: "" }));
  const description = el("input", { id: "webhook-description", maxlength: "500" });
  const form = el(
    "form",
    { id: "webhook-form" },
    el("label", { for: "webhook-url", text: "URL" }),
    url,
    el("fieldset", {}, el("legend", { text: "Events" }), ...boxes.map((box) => el("label", {}, box, ` ${box.value}`))),
    el("label", { for: "webhook-description", text: "Description" }),
    description,
    el("button", { type: "submit", text: "Add endpoint" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const events = boxes.filter((box) => box.checked).map((box) => box.value);
    const body = { url: url.value, events, description: description.value === "" ? null : description.value };
    api<{ url: string; secret: string }>("POST", "/webhooks", body).then(
      (created) => webhooksPage(secretShown(`Endpoint ${created.url} added.`, created.secret)),
      (err: unknown) => {
        form.querySelector(".error")?.remove();
        form.append(status(reason(err), true));
      },
    );
  });
  return el("section", {}, el("h2", { text: "Add an endpoint" }), form);
}
