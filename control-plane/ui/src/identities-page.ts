/**
 * The identities' pages: API tokens (mint, shown once; revoke), operators (admins), sessions
 * (admins: revoke). Buttons appear only for a role that may use them (the page's meta tag; the
 * API checks the role anyway).
 */
import { ROLES, type Role } from "../../src/auth/roles";
import { api, reason } from "./api";
import { el, render } from "./dom";
import { myRole } from "./role";

function table(head: string[], rows: Node[][]): HTMLTableElement {
  return el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { text: h })))), el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))));
}

function status(text: string, error = false): HTMLParagraphElement {
  return el("p", error ? { class: "error", role: "alert", text } : { role: "status", text });
}

interface Token {
  id: string;
  name: string;
  role: Role;
  createdBy: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

export async function tokensPage(message?: Node): Promise<void> {
  const { tokens } = await api<{ tokens: Token[] }>("GET", "/tokens");
  const mine = myRole();
  const revoke = (t: Token): Node => {
    const button = el("button", { type: "button", text: "Revoke" });
    button.addEventListener("click", () => {
      api("DELETE", `/tokens/${t.id}`).then(() => tokensPage(status(`Token ${t.name} revoked.`)), (err: unknown) => render(status(reason(err), true)));
    });
    return button;
  };
  const name = el("input", { id: "token-name", required: "", pattern: "[A-Za-z0-9][A-Za-z0-9._@-]{0,63}" });
  const role = el("select", { id: "token-role" }, ...ROLES.filter((r) => ROLES.indexOf(r) <= ROLES.indexOf(mine)).map((r) => el("option", { value: r, text: r })));
  const form = el("form", {}, el("label", { for: "token-name", text: "Name" }), name, el("label", { for: "token-role", text: "Role" }), role, el("button", { type: "submit", text: "Mint token" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    api<{ token: string; name: string }>("POST", "/tokens", { name: name.value, role: role.value }).then(
      (t) => tokensPage(el("p", { role: "status" }, `Token ${t.name} (shown this once): `, el("code", { id: "new-token", text: t.token }))),
      (err: unknown) => form.append(status(reason(err), true)),
    );
  });
  render(
    el("h1", { text: "API tokens" }),
    ...(message === undefined ? [] : [message]),
    table(
      ["Name", "Role", "Made by", "Expires", "Last used", ""],
      tokens.map((t) => [t.name, t.role, t.createdBy, t.expiresAt, t.lastUsedAt ?? "never", mine === "admin" ? revoke(t) : ""].map((c) => (typeof c === "string" ? document.createTextNode(c) : c))),
    ),
    el("h2", { text: "Mint a token" }),
    form,
  );
}

export async function operatorsPage(): Promise<void> {
  const { operators } = await api<{ operators: { name: string; email: string | null; role: Role; disabled: boolean; totp: boolean; oidcBound: boolean }[] }>("GET", "/operators");
  render(
    el("h1", { text: "Operators" }),
    table(
      ["Name", "Email", "Role", "Sign-in", "State"],
      operators.map((o) => [o.name, o.email ?? "", o.role, [o.oidcBound ? "OpenID" : "", o.totp ? "password + TOTP" : ""].filter((s) => s !== "").join(", "), o.disabled ? "disabled" : "enabled"].map((c) => document.createTextNode(c))),
    ),
  );
}

export async function sessionsPage(message?: Node): Promise<void> {
  const { sessions } = await api<{ sessions: { id: string; actor: string; address: string; createdAt: string; expiresAt: string }[] }>("GET", "/sessions");
  const admin = myRole() === "admin";
  render(
    el("h1", { text: "Sessions" }),
    ...(message === undefined ? [] : [message]),
    table(
      ["Who", "From", "Since", "Until", ""],
      sessions.map((s) => {
        const cells: Node[] = [s.actor, s.address, s.createdAt, s.expiresAt].map((c) => document.createTextNode(c));
        const button = el("button", { type: "button", text: "End" });
        button.addEventListener("click", () => {
          api("DELETE", `/sessions/${s.id}`).then(() => sessionsPage(status(`Session of ${s.actor} ended.`)), (err: unknown) => render(status(reason(err), true)));
        });
        return [...cells, admin ? button : document.createTextNode("")];
      }),
    ),
  );
}
