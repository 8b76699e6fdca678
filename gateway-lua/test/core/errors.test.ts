import { readFileSync } from "node:fs";
import path from "node:path";
import { ERROR_CATALOGUE, ERROR_CODES } from "../../src/core/errors";

test("every catalogue code is listed once, in order, with a 4xx/5xx status and a message", () => {
  expect(ERROR_CODES).toEqual(Object.keys(ERROR_CATALOGUE));
  for (const code of ERROR_CODES) {
    const { status, message } = ERROR_CATALOGUE[code];
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    expect(message.length).toBeGreaterThan(0);
  }
});

test("the OpenAPI document lists exactly the catalogue's codes", () => {
  const doc = readFileSync(path.resolve(__dirname, "../../../openapi.yaml"), "utf8");
  const block = /ErrorCode:\n\s+type: string\n\s+enum:\n((?:\s+- \w+\n)+)/.exec(doc);
  expect(block).not.toBeNull();
  const listed = block![1]!.trim().split("\n").map((l) => l.trim().replace(/^- /, ""));
  expect(listed).toEqual(ERROR_CODES);
});
