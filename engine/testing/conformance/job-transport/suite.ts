import { registerSuite, type ConformanceGroup } from "../harness.js";
import type { ConformanceSuiteOptions } from "../types.js";
import { cancellationCases } from "./cancellation.js";
import { concurrencyCases } from "./concurrency.js";
import { deliveryCases } from "./delivery.js";
import {
  supports,
  type JobTransportCapabilities,
  type JobTransportCapability,
  type JobTransportConformanceFixture,
} from "./fixture.js";
import { listingCases } from "./listing.js";
import { priorityCases } from "./priority.js";
import { schedulingCases } from "./scheduling.js";
import { staleLeaseCases } from "./stale-leases.js";

export type { JobTransportCapabilities, JobTransportCapability, JobTransportConformanceFixture };

/** Options of {@link runJobTransportConformanceSuite}. */
export interface JobTransportConformanceOptions extends ConformanceSuiteOptions {
  /**
   * Builds the transport for one case. Called once per case; `cleanup` runs after it, pass or fail.
   * Give each case an empty queue where you can: cases only look at jobs of their own random run
   * ids and skip others, but ordering checks need the queue to themselves.
   */
  create: () => Promise<JobTransportConformanceFixture>;
}

const GROUPS: readonly ConformanceGroup<JobTransportConformanceFixture, JobTransportCapability>[] = [
  deliveryCases,
  schedulingCases,
  priorityCases,
  staleLeaseCases,
  cancellationCases,
  concurrencyCases,
  listingCases,
];

/**
 * Registers the conformance suite of the `JobTransport` port: enqueue and lease, de-duplication of
 * (run, stage, attempt), complete and fail, `cancelByRun`, and many workers racing without ever
 * leasing one job twice. Cases that need a capability the fixture does not declare in `supports`
 * (priority order, scheduling and stale-lease release on the injected clock, listing) are skipped.
 *
 * Call it at the top level of a test file. It takes your framework's `describe` and `it`, so
 * importing `stageflow/testing` loads no test runner; vitest, jest and `node:test` all work.
 *
 * @example
 * ```ts
 * // test/my-queue.conformance.test.ts
 * import { describe, it } from "vitest";
 * import { FakeClock } from "stageflow/kernel/testing";
 * import { runJobTransportConformanceSuite } from "stageflow/testing";
 * import { MyJobQueue } from "../src/my-job-queue.js";
 *
 * runJobTransportConformanceSuite({
 *   name: "MyJobQueue",
 *   describe,
 *   it,
 *   create: async () => {
 *     const clock = new FakeClock(new Date("2025-01-01T00:00:00Z"));
 *     const transport = new MyJobQueue({ clock });
 *     return {
 *       transport,
 *       clock,
 *       supports: { priority: true, scheduling: true, staleRelease: true, listing: true },
 *       cleanup: () => transport.close(),
 *     };
 *   },
 * });
 * ```
 */
export function runJobTransportConformanceSuite(options: JobTransportConformanceOptions): void {
  registerSuite<JobTransportConformanceFixture, JobTransportCapability>({
    title: "JobTransport conformance",
    options,
    groups: GROUPS,
    create: options.create,
    supports,
  });
}
