import { readFileSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import { ERROR_CATALOGUE, ERROR_CODES } from "../src/errors";

test("every catalogue code is listed once, in order, with a 4xx/5xx status and a message", () => {
  expect(ERROR_CODES).toEqual(Object.keys(ERROR_CATALOGUE));
  for (const code of ERROR_CODES) {
    const { status, message } = ERROR_CATALOGUE[code];
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    expect(message.length).toBeGreaterThan(0);
  }
});

/** openapi.yaml read by a real YAML parser, strictly: Swagger UI, Redocly and client generators read it so. */
function openApiDocument(): any {
  const doc = parseDocument(readFileSync(path.resolve(__dirname, "../../openapi.yaml"), "utf8"), { uniqueKeys: true, strict: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  return doc.toJS();
}

test("the OpenAPI document is valid YAML and every $ref in it names a component it has", () => {
  const api = openApiDocument();
  const refs: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) (k === "$ref" && typeof x === "string" ? refs.push(x) : walk(x));
    }
  };
  walk(api);
  expect(refs.length).toBeGreaterThan(0);
  const missing = refs.filter((ref) => ref.replace(/^#\//, "").split("/").reduce<any>((node, part) => node?.[part], api) === undefined);
  expect([...new Set(missing)]).toEqual([]);
});

test("the OpenAPI document lists exactly the catalogue's codes", () => {
  expect(openApiDocument().components.schemas.ErrorCode.enum).toEqual(ERROR_CODES);
});
