/**
 * The one way a test file starts its parts: `useStack(new TestStack({ … }))` (or a ClusterStack)
 * starts the stack before the file's tests and stops it after them, each worker it started
 * expected to exit cleanly. `setUp` runs once the stack is up (sales, a browser, a second
 * gateway: what it starts it hands to `stack.onStop`).
 */
import type { WorkerExit } from "./stream-fixtures";

export const CLEAN_EXIT: WorkerExit = { code: 0, signal: null };

export interface Stack {
  start(): Promise<void>;
  stop(): Promise<WorkerExit[]>;
}

export function useStack<S extends Stack>(stack: S, setUp?: () => Promise<void>): S {
  beforeAll(async () => {
    await stack.start();
    await setUp?.();
  });
  afterAll(async () => {
    const exits = await stack.stop();
    expect(exits).toEqual(exits.map(() => CLEAN_EXIT));
  });
  return stack;
}
