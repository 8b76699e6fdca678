/** GET /openapi.yaml: the API document of the repository root (admin and shopper API), as is. */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { RequestHandler } from "express";

// Three levels up from both src/http (ts-jest) and build/http (node): the repository root.
export const OPENAPI_FILE = path.resolve(__dirname, "../../../openapi.yaml");

export function serveOpenApi(file: string = OPENAPI_FILE): RequestHandler {
  // Read once, at start: a missing document stops the process instead of failing a request.
  const document = readFileSync(file, "utf8");
  return (_req, res) => {
    res.type("application/yaml").set("Cache-Control", "no-cache").send(document);
  };
}
