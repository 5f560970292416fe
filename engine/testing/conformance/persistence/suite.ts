import { registerSuite, type ConformanceGroup } from "../harness.js";
import type { ConformanceSuiteOptions } from "../types.js";
import { clockCases } from "./clock.js";
import type { PersistenceConformanceFixture } from "./fixture.js";
import { idempotencyCases } from "./idempotency.js";
import { lockCases } from "./locks.js";
import { logCases } from "./logs.js";
import { outboxCases } from "./outbox.js";
import { queryCases } from "./queries.js";
import { runCases } from "./runs.js";
import { stageCases } from "./stages.js";
import { transactionCases } from "./transactions.js";

export type { PersistenceConformanceFixture };

/** Options of {@link runPersistenceConformanceSuite}. */
export interface PersistenceConformanceOptions extends ConformanceSuiteOptions {
  /**
   * Builds the adapter for one case. Called once per case; `cleanup` runs after it, pass or fail.
   * Adapters may share storage (one DynamoDB table) across cases: every case uses fresh random
   * ids and reads only its own rows from shared indexes.
   */
  create: () => Promise<PersistenceConformanceFixture>;
}

const GROUPS: readonly ConformanceGroup<PersistenceConformanceFixture>[] = [
  runCases,
  stageCases,
  transactionCases,
  outboxCases,
  queryCases,
  logCases,
  idempotencyCases,
  lockCases,
  clockCases,
];

/**
 * Registers the conformance suite of the `Persistence` port: the checks every adapter must
 * pass for the kernel's guarantees to hold (atomic, rolled-back transactions; conditional writes
 * that throw `PersistenceConflictError`; gapless per-run event numbering; the indexed queries the
 * kernel's maintenance relies on; idempotency keys and locks; times from the injected clock).
 *
 * Call it at the top level of a test file. It takes your framework's `describe` and `it`, so
 * importing `stageflow/testing` loads no test runner; vitest, jest and `node:test` all work.
 *
 * @example
 * ```ts
 * // test/my-persistence.conformance.test.ts
 * import { describe, it } from "vitest";
 * import { FakeClock } from "stageflow/kernel/testing";
 * import { runPersistenceConformanceSuite } from "stageflow/testing";
 * import { MyPersistence } from "../src/my-persistence.js";
 *
 * runPersistenceConformanceSuite({
 *   name: "MyPersistence",
 *   describe,
 *   it,
 *   create: async () => {
 *     const clock = new FakeClock(new Date("2025-01-01T00:00:00Z"));
 *     const persistence = new MyPersistence({ clock });
 *     return { persistence, clock, cleanup: () => persistence.close() };
 *   },
 * });
 * ```
 */
export function runPersistenceConformanceSuite(options: PersistenceConformanceOptions): void {
  registerSuite<PersistenceConformanceFixture, never>({
    title: "Persistence conformance",
    options,
    groups: GROUPS,
    create: options.create,
    supports: () => true,
  });
}
