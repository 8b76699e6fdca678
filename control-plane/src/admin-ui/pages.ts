/** The admin UI's HTML: a login form, and one shell that the browser bundle fills in by path. */

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

export function loginPage(error?: string): string {
  const alert = error === undefined ? "" : `<p class="error" role="alert">${escapeHtml(error)}</p>`;
  return page(
    "Log in",
    "",
    `<main class="login">
<h1>Flash-sale admin</h1>
${alert}
<form method="post" action="/admin/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
</main>`,
  );
}

/** Every page after the login: the bundle reads the CSRF token from the meta tag. */
export function appShell(csrfToken: string): string {
  return page(
    "Sales",
    `<meta name="csrf-token" content="${escapeHtml(csrfToken)}">
<script type="module" src="/admin/assets/admin.js"></script>`,
    `<header><nav><a href="/admin">Sales</a> <a href="/admin/sales/new">New sale</a></nav><button id="logout" type="button">Log out</button></header>
<main id="app"></main>`,
  );
}
