/** The log rotation's knobs and which rotated files it deletes (log-rotation.ts). */
import { KNOBS_FILE, readKnobs } from "../src/knobs";
import { parseSize, rotatedToDelete, rotationPolicy } from "../src/log-rotation";

const defaults = readKnobs(KNOBS_FILE, {});

test("sizes as nginx writes them", () => {
  expect([parseSize("512"), parseSize("16k"), parseSize("256m"), parseSize("1G")]).toEqual([512, 16384, 256 * 1024 ** 2, 1024 ** 3]);
  for (const bad of ["", "0", "12.5m", "10mb", "-1k", "m"]) expect(parseSize(bad)).toBeUndefined();
});

test("the shipped policy, and a bad knob refused by name", () => {
  expect(rotationPolicy(defaults)).toEqual({ sizeBytes: 256 * 1024 ** 2, keep: 8, checkMs: 10_000 });
  expect(rotationPolicy({ ...defaults, log_rotate_check_seconds: "0.2" }).checkMs).toBe(200);
  expect(() => rotationPolicy({ ...defaults, log_rotate_size: "big" })).toThrow("knob log_rotate_size must be a size such as 256m, got 'big'");
  expect(() => rotationPolicy({ ...defaults, log_rotate_keep: "0" })).toThrow("knob log_rotate_keep must be a whole number of at least 1");
  expect(() => rotationPolicy({ ...defaults, log_rotate_check_seconds: "0" })).toThrow("knob log_rotate_check_seconds must be a number of seconds above 0");
});

test("all but the newest `keep` rotated files of each log are deleted; nothing else", () => {
  const files = [
    "access.log", "error.log", "log-rotation.log",
    "access.log.20261201T000003.000000001", "access.log.20261201T000001.000000001", "access.log.20261201T000002.000000001",
    "error.log.20261201T000001.000000001", "error.log.20261201T000002.000000001",
  ];
  expect(rotatedToDelete(files, 2).sort()).toEqual(["access.log.20261201T000001.000000001"]);
  expect(rotatedToDelete(files, 1).sort()).toEqual([
    "access.log.20261201T000001.000000001", "access.log.20261201T000002.000000001", "error.log.20261201T000001.000000001",
  ]);
});
