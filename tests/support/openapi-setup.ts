/** Jest setup of the integration tests: fetch's answers are held to openapi.yaml (request() holds its own); the file fails on any mismatch. */
import { checkedFetch, holdAnswersToDocument } from "./openapi";

const seen = holdAnswersToDocument();
globalThis.fetch = checkedFetch(globalThis.fetch, seen);

afterAll(() => {
  // Printed so that a run shows the check ran, and on how much.
  process.stderr.write(`openapi.yaml: ${seen.checked} answers matched to the document, ${seen.bodies} JSON bodies validated, ${seen.outside} outside the APIs\n`);
  if (seen.mismatches.length > 0) throw new Error(`${seen.mismatches.length} answers break openapi.yaml:\n${seen.mismatches.join("\n")}`);
});
