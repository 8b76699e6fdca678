/** zod issues as the API reports them: one `{path, message}` per bad field, path dotted. */
import type { core } from "zod/mini";

export interface FieldError {
  /** Dotted path of the field ("limits.userBurst"); "" for the body itself. */
  path: string;
  message: string;
}

export function fieldErrors(error: core.$ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    // zod reports unknown keys once, on the object; the admin wants each key named.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...path, key].join("."), message: issue.message }));
    }
    return [{ path: path.join("."), message: issue.message }];
  });
}
