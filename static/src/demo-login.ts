/**
 * Logging in from the pages. GET /api/session says who is logged in and how to log in: with
 * the gateway's demo login on (development only), a form that signs in by name
 * (POST /api/dev/login sets the fs_token cookie); without it, a link to the shop's login page.
 */
import { deleteJson, getJson, postJson, type ApiResult, type Session } from "./api.js";
import { byId, show } from "./dom.js";
import { loginHref } from "./texts.js";

export function readSession(): Promise<ApiResult<Session>> {
  return getJson<Session>("/api/session");
}

/** Shows who is logged in once the gateway says, without holding up the page. */
export function showSession(): void {
  void readSession().then((s) => {
    if (s.ok) showLoggedIn(s.body.user);
  });
}

/** Shows who is logged in, in the page's #whoami line, with a log-out button beside it. */
export function showLoggedIn(user: string | undefined): void {
  const line = byId("whoami");
  line.textContent = user === undefined ? "" : `Logged in as ${user}.`;
  show(line, user !== undefined);
  let button = document.getElementById("logout");
  if (button === null) {
    button = document.createElement("button");
    button.id = "logout";
    button.setAttribute("type", "button");
    button.textContent = "Log out";
    button.addEventListener("click", () => void logOut());
    line.after(button);
  }
  show(button, user !== undefined);
}

/** DELETE /api/session clears the cookie; the page starts again as a stranger's. */
async function logOut(): Promise<void> {
  const res = await deleteJson<Session>("/api/session");
  if (res.ok) location.reload();
  else byId("whoami").textContent = `Logging out failed: ${res.message}`;
}

/**
 * Shows the login panel with `why` (the demo form, or the link to the shop's login when the
 * session says there is no demo login). Resolves once the shopper has logged in with the form;
 * `focus` moves the keyboard to it (not on a page's first view, where the shopper is reading).
 */
export function offerLogin(session: Pick<Session, "demoLogin" | "loginUrl"> | undefined, why: string, focus: boolean): Promise<string> {
  const section = byId("login");
  const form = byId<HTMLFormElement>("login-form");
  const input = byId<HTMLInputElement>("login-name");
  const message = byId("login-message");
  const elsewhere = byId("login-elsewhere");
  const link = byId<HTMLAnchorElement>("login-link");
  byId("login-why").textContent = why;
  // Without a session's word, the form is tried: its 404 then tells that the demo login is off.
  const demo = session?.demoLogin ?? true;
  show(form, demo);
  show(elsewhere, !demo);
  if (session !== undefined) link.href = loginHref(session.loginUrl, location.href);
  show(section, true);
  if (focus) (demo ? input : link).focus();
  return new Promise((resolve) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      message.textContent = "Logging in…";
      const user = input.value.trim();
      const res = await postJson<{ user: string }>("/api/dev/login", { user });
      if (res.ok) {
        message.textContent = "";
        show(section, false);
        form.onsubmit = null;
        showLoggedIn(res.body.user);
        resolve(res.body.user);
      } else if (res.status === 404 || res.status === 405) {
        show(form, false);
        show(elsewhere, true);
      } else {
        message.textContent = res.message;
      }
    };
  });
}
