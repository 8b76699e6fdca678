/** openapi.yaml passes Redocly's lint (redocly.yaml: its recommended rules, and why any is off), offline. */
import { runTool } from "./support/run-tool";

test("Redocly's lint finds no problem in openapi.yaml", async () => {
  const run = await runTool(process.execPath, [require.resolve("@redocly/cli/bin/cli.js"), "lint", "--format=json", "openapi.yaml"], {
    REDOCLY_TELEMETRY: "off",
    REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
  });
  const report = JSON.parse(run.stdout) as { totals: { errors: number; warnings: number; ignored: number }; problems: { ruleId: string; message: string }[] };
  expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
  expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 1 });
  expect(run.code).toBe(0);
});
