/** The admin UI's HTML: the login forms, and one shell that the browser bundle fills in by path. */
import { actorOf, type Identity } from "../auth/identity";
import { ruleFor } from "../auth/route-roles";
import { atLeast } from "../auth/roles";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Flash-sale admin</title>
<link rel="stylesheet" href="/admin/assets/admin.css">
<link rel="icon" href="/admin/assets/favicon.svg" type="image/svg+xml">
${head}
</head>
<body>
${body}
</body>
</html>
`;
}

/** Sign-in by token (bootstrap or API), by local account, and through the provider where there is one. */
export function loginPage(oidc: boolean, error?: string): string {
  const alert = error === undefined ? "" : `<p class="error" role="alert">${escapeHtml(error)}</p>`;
  const provider = oidc ? `<p><a class="button" id="oidc-sign-in" href="/admin/oidc/start">Sign in with the shop's account</a></p>\n` : "";
  return page(
    "Log in",
    "",
    `<main class="login">
<h1>Flash-sale admin</h1>
${alert}${provider}<form method="post" action="/admin/login">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button id="token-submit" type="submit">Log in with a token</button>
</form>
<form method="post" action="/admin/login">
<label for="login">Name or email</label>
<input id="login" name="login" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="code">Authenticator code</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}">
<button id="account-submit" type="submit">Log in</button>
</form>
</main>`,
  );
}

/**
 * After the provider's sign-in: a page of ours that goes on to `href`. A redirect would not do:
 * the chain began on the provider's site, so the browser would hold back the SameSite=Strict
 * session cookie just set, and the admin UI would answer with the login.
 */
export function continuePage(href: string): string {
  const target = escapeHtml(href);
  return page("Signed in", `<meta http-equiv="refresh" content="0; url=${target}">`, `<main class="login"><p><a id="continue" href="${target}">Continue to the admin UI</a></p></main>`);
}

/** Every page after the login: the bundle reads the CSRF token and the role from the meta tags. */
export function appShell(csrfToken: string, identity: Identity): string {
  const admin = identity.role === "admin";
  const may = (method: string, path: string): boolean => atLeast(identity.role, ruleFor(method, path)?.role ?? "admin");
  const mayCreate = may("POST", "/admin/api/sales");
  return page(
    "Sales",
    `<meta name="csrf-token" content="${escapeHtml(csrfToken)}">
<meta name="admin-role" content="${identity.role}">
<script type="module" src="/admin/assets/admin.js"></script>`,
    `<header><nav><a href="/admin">Sales</a>${mayCreate ? ` <a href="/admin/sales/new">New sale</a>` : ""} <a href="/admin/tokens">Tokens</a>${may("GET", "/admin/api/webhooks") ? ` <a href="/admin/webhooks">Webhooks</a>` : ""}${admin ? ` <a href="/admin/operators">Operators</a> <a href="/admin/sessions">Sessions</a>` : ""}</nav><span id="whoami">${escapeHtml(actorOf(identity))} · ${identity.role}</span><button id="logout" type="button">Log out</button></header>
<main id="app"></main>`,
  );
}
