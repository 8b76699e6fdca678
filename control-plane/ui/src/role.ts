/**
 * The signed-in identity's role (the page's meta tag) and what it may call, read from the API's
 * own route table (auth/route-roles.ts): the pages show no control the role cannot use. The
 * API checks the role anyway.
 */
import { ruleFor } from "../../src/auth/route-roles";
import { atLeast, isRole, type Role } from "../../src/auth/roles";

export function myRole(): Role {
  const role = document.querySelector<HTMLMetaElement>('meta[name="admin-role"]')?.content;
  return isRole(role) ? role : "viewer";
}

/** Whether `role` may call `method` on `path` under /admin/api; a route with no rule is for admins. */
export function mayCall(role: Role, method: string, path: string): boolean {
  return atLeast(role, ruleFor(method, `/admin/api${path}`)?.role ?? "admin");
}
