/** The OpenAPI document spells the sale id's pattern by hand (YAML): held to the core's. */
import { readFileSync } from "node:fs";
import { SALE_ID_PATTERN } from "@flash-sale/contract/ids";
import { OPENAPI_FILE } from "../src/api/openapi";

test("every sale id in openapi.yaml has the core's pattern", () => {
  const patterns = [...readFileSync(OPENAPI_FILE, "utf8").matchAll(/^\s+id: \{ type: string, pattern: "([^"]+)"/gm)].map((m) => m[1]);
  expect(patterns.length).toBeGreaterThanOrEqual(2);
  expect(new Set(patterns)).toEqual(new Set([`^${SALE_ID_PATTERN}$`]));
});
