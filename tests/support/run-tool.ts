/** Runs one of the project's command-line tools from the repository root, as a user would. */
import { execFile } from "node:child_process";
import { REPO_ROOT } from "./stream-fixtures";

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runTool(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: "utf8" }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : null, stdout, stderr }),
    );
  });
}
