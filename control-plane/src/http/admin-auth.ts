/** Every admin route wants `Authorization: Bearer <FS_ADMIN_TOKEN>`. */
import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { ApiError } from "./api-error";

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

export function requireAdminToken(adminToken: string): RequestHandler {
  // Comparing digests keeps the comparison constant-time even when lengths differ.
  const expected = sha256(adminToken);
  return (req, res, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(req.get("authorization") ?? "");
    if (match?.[1] !== undefined && timingSafeEqual(sha256(match[1]), expected)) {
      next();
      return;
    }
    res.set("WWW-Authenticate", 'Bearer realm="admin"');
    throw new ApiError("unauthorized", "A valid admin token is required: Authorization: Bearer <FS_ADMIN_TOKEN>.");
  };
}
