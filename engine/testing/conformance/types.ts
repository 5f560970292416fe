/**
 * Types shared by the port conformance suites. The suites receive the test framework's functions
 * instead of importing one, so `stageflow/testing` loads no test runner.
 */

/**
 * A test body. vitest and `node:test` pass a context with `skip()`; the suites call it for cases
 * the adapter does not support (without such a context those cases simply end early).
 */
export type ConformanceTestFn = (context?: unknown) => void | Promise<void>;

/**
 * The `it` (or `test`) function of your test framework: vitest, jest and `node:test` fit.
 * If it has a `skip` member (vitest, jest), cases an adapter does not support are registered as
 * skipped; otherwise they are left out.
 */
export interface ConformanceIt {
  (name: string, fn: ConformanceTestFn): void;
  skip?: (name: string, fn: ConformanceTestFn) => void;
}

/** The `describe` function of your test framework. */
export type ConformanceDescribe = (name: string, fn: () => void) => void;

/**
 * The controllable clock the adapter under test was built with (e.g. `FakeClock` from
 * `stageflow/kernel/testing`). The suites only move it forward.
 */
export interface ConformanceClock {
  now(): Date;
  advance(ms: number): void;
}

/** Options common to every conformance suite. */
export interface ConformanceSuiteOptions {
  /** Shown in the top-level `describe`, e.g. `"in-memory"` or `"DynamoDB Local"`. */
  name: string;
  describe: ConformanceDescribe;
  it: ConformanceIt;
  /**
   * Titles of cases to register as skipped (or leave out when `it.skip` is missing), for an
   * adapter that knowingly deviates. Each title is the case's `it` title without the describe path.
   * @default []
   */
  exclude?: readonly string[];
}
