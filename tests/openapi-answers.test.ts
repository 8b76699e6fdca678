/** The check every integration test's answers go through (support/openapi.ts): what it lets pass, what it refuses, and how it says so. */
import { OpenApiResponses, openApiDocument } from "./support/openapi";

const JSON_ANSWER = { contentType: "application/json; charset=utf-8", server: undefined };
const GATEWAY_JSON = { contentType: "application/json", server: "nginx" };
const HTML = { contentType: "text/html", server: "nginx" };

let checker: OpenApiResponses;
beforeEach(() => {
  checker = new OpenApiResponses(openApiDocument());
});

test("an answer as documented passes, and is counted", () => {
  expect(checker.check("GET", "http://127.0.0.1:1/api/time", 200, GATEWAY_JSON, '{"now":1765000000000}')).toBeUndefined();
  expect(checker.check("GET", "http://127.0.0.1:1/api/sales/no-such?x=1", 404, GATEWAY_JSON, '{"error":"sale_not_found","message":"No such sale."}')).toBeUndefined();
  expect({ checked: checker.checked, bodies: checker.bodies, mismatches: checker.mismatches }).toEqual({ checked: 2, bodies: 2, mismatches: [] });
});

test("a body that breaks its schema fails with the method, the path, the status and ajv's words", () => {
  const problem = checker.check("GET", "http://127.0.0.1:1/api/time", 200, GATEWAY_JSON, '{"now":"soon"}');
  expect(problem).toMatch(/^openapi\.yaml: GET \/api\/time answered 200: the body breaks the schema: body\/now must be integer/);
  expect(checker.mismatches).toEqual([problem]);
});

test("a status, a media type or a body the document does not describe fails", () => {
  expect(checker.check("GET", "http://127.0.0.1:1/api/time", 201, GATEWAY_JSON, '{"now":1}')).toMatch(/status not in the document \(it lists 200, 405, 429\)/);
  expect(checker.check("GET", "http://127.0.0.1:1/api/time", 200, HTML, "<p>now</p>")).toMatch(/a text\/html body; the document describes application\/json/);
  expect(checker.check("DELETE", "http://127.0.0.1:1/admin/api/sales/x", 204, JSON_ANSWER, "{}")).toMatch(/a application\/json body; the document describes none/);
  expect(checker.check("GET", "http://127.0.0.1:1/api/time", 200, GATEWAY_JSON, "")).toMatch(/an empty body/);
});

test("a path or method the APIs do not have passes only as a catalogue error; pages and other paths are outside", () => {
  expect(checker.check("GET", "http://127.0.0.1:1/api/nothing", 404, GATEWAY_JSON, '{"error":"not_found","message":"No such thing."}')).toBeUndefined();
  expect(checker.check("PUT", "http://127.0.0.1:1/api/time", 405, GATEWAY_JSON, '{"error":"method_not_allowed","message":"No."}')).toBeUndefined();
  expect(checker.check("GET", "http://127.0.0.1:1/admin/api/nothing", 200, JSON_ANSWER, "{}")).toMatch(/the path is not in the document, and the answer is no 4xx error/);
  expect(checker.check("GET", "http://127.0.0.1:1/api/nothing", 404, GATEWAY_JSON, '{"error":"no_such_code","message":"x"}')).toMatch(/no error of the catalogue: the body breaks the schema: body\/error must be equal to one of the allowed values/);
  const outside = checker.outside;
  expect(checker.check("GET", "http://127.0.0.1:1/sales/x", 200, HTML, "<html></html>")).toBeUndefined();
  expect(checker.check("POST", "http://127.0.0.1:1/admin/api/sales", 404, HTML, "<html></html>")).toBeUndefined(); // the gateway: no admin API there
  expect(checker.check("POST", "http://127.0.0.1:1/api/dev/login", 200, GATEWAY_JSON, "{}")).toBeUndefined();
  expect(checker.outside).toBe(outside + 3);
});
