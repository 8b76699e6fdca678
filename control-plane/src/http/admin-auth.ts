/**
 * Every admin route wants `Authorization: Bearer <FS_ADMIN_TOKEN>`, or the admin UI's session
 * cookie (with its CSRF token on state-changing requests).
 */
import type { RequestHandler } from "express";
import { ApiError } from "./api-error";
import { sameSecret, sessionAllows, type AdminSessions } from "../admin-ui/sessions";

export function requireAdminToken(adminToken: string, sessions: AdminSessions): RequestHandler {
  return async (req, res, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(req.get("authorization") ?? "");
    if (match?.[1] !== undefined && sameSecret(match[1], adminToken)) {
      next();
      return;
    }
    const session = await sessions.find(req);
    if (session !== undefined && sessionAllows(req, session)) {
      next();
      return;
    }
    res.set("WWW-Authenticate", 'Bearer realm="admin"');
    throw new ApiError("unauthorized", "A valid admin token is required: Authorization: Bearer <FS_ADMIN_TOKEN>.");
  };
}
