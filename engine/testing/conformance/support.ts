/** Small helpers shared by the conformance cases: unique ids, clock moves, typed assertions. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { PersistenceConflictError } from "../../kernel/errors.js";
import type { ConformanceClock } from "./types.js";

/** An id no other case (or earlier run of the suite on a shared table) uses. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** Moves the clock forward to `at`; the suites never move a clock backwards. */
export function advanceTo(clock: ConformanceClock, at: Date): void {
  const delta = at.getTime() - clock.now().getTime();
  assert.ok(delta >= 0, `conformance suite bug: cannot move the clock back to ${at.toISOString()}`);
  clock.advance(delta);
}

export function addMs(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

/** Rejects with PersistenceConflictError (the kernel retries on exactly that class). */
export async function assertConflict(promise: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(
      error instanceof PersistenceConflictError,
      `${what}: expected PersistenceConflictError, got ${describeError(error)}`,
    );
    return true;
  });
}

export function isConflict(error: unknown): boolean {
  return error instanceof PersistenceConflictError;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Asserts that `value` is a Date equal to `expected` (millisecond precision). */
export function assertSameTime(value: unknown, expected: Date, what: string): void {
  assert.ok(value instanceof Date, `${what}: expected a Date, got ${String(value)}`);
  assert.equal(value.getTime(), expected.getTime(), `${what}: expected ${expected.toISOString()}, got ${value.toISOString()}`);
}

/** Runs `fn` until it does not throw PersistenceConflictError (what a kernel handler does). */
export async function retryOnConflict<T>(fn: () => Promise<T>, maxAttempts = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isConflict(error) || attempt >= maxAttempts) throw error;
      await sleep(Math.floor(Math.random() * 5));
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keeps the items whose key is in `keys`, in their original order. */
export function only<T>(items: readonly T[], keys: ReadonlySet<string>, keyOf: (item: T) => string): T[] {
  return items.filter((item) => keys.has(keyOf(item)));
}

/** A barrier-free way to start several async functions at the same tick. */
export function settleAll<T>(fns: readonly (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(fns.map((fn) => Promise.resolve().then(fn)));
}
