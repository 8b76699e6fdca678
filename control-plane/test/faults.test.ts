import { parseFault } from "../src/faults";

describe("parseFault (FS_CONTROL_PLANE_FAULT)", () => {
  it.each([
    [undefined, { fault: undefined }],
    ["", { fault: undefined }],
    ["kill-after-take:update", { fault: { point: "after-take", action: "update" } }],
    ["kill-after-commit:update", { fault: { point: "after-commit", action: "update" } }],
    ["kill-mid-apply:publish", { fault: { point: "mid-apply", action: "publish" } }],
    ["kill-mid-expiry", { fault: { point: "mid-expiry", action: undefined } }],
  ])("reads %j", (value, expected) => {
    expect(parseFault(value)).toEqual(expected);
  });

  it.each(["kill-later", "kill-after-commit", "kill-after-commit:delete", "kill-mid-expiry:update"])("refuses %j, naming the values it takes", (value) => {
    const parsed = parseFault(value);
    expect(parsed).toEqual({ error: expect.stringContaining(`"${value}" (kill-after-take:update, kill-after-commit:<action>, kill-mid-apply:<action>, kill-mid-expiry)`) });
  });
});
