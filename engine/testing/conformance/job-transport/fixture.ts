/** What the job transport suite needs from an adapter, and helpers to drive it. */
import assert from "node:assert/strict";
import type { DequeueResult, EnqueueJobInput, JobTransport } from "../../../kernel/ports.js";
import { sleep, uniqueId } from "../support.js";
import type { ConformanceClock } from "../types.js";

/**
 * Optional behaviours. A transport driven by the injected clock (in-memory, DynamoDB queue) has
 * them all; SQS keeps time itself, so cases that move the clock cannot apply to it.
 */
export interface JobTransportCapabilities {
  /** Higher `priority` is delivered first, then older jobs. @default false */
  priority?: boolean;
  /** `scheduledFor` and `suspend(jobId, at)` hide a job until that time on the injected clock. @default false */
  scheduling?: boolean;
  /** `releaseStaleJobs` hands back leases older than the threshold on the injected clock. @default false */
  staleRelease?: boolean;
  /** `getJobsByWorkflowRun` is implemented. @default false */
  listing?: boolean;
}

/** Names of {@link JobTransportCapabilities}. */
export type JobTransportCapability = keyof JobTransportCapabilities;

/** A fresh transport for one case. */
export interface JobTransportConformanceFixture {
  transport: JobTransport;
  /** The clock the transport schedules and leases by. */
  clock: ConformanceClock;
  /** Called after the case, pass or fail. */
  cleanup?: () => void | Promise<void>;
  /** Which optional cases apply; the others are skipped. */
  supports?: JobTransportCapabilities;
}

export function jobInput(overrides: Partial<EnqueueJobInput> = {}): EnqueueJobInput {
  return {
    workflowRunId: uniqueId("run"),
    workflowId: "conformance-workflow",
    stageId: uniqueId("stage"),
    attempt: 1,
    priority: 5,
    payload: { source: "conformance", nested: { list: [1, "two"] } },
    ...overrides,
  };
}

/** Identifies a job by what it nudges: (run, stage, attempt). */
export function jobKey(job: Pick<DequeueResult, "workflowRunId" | "stageId" | "attempt">): string {
  return `${job.workflowRunId}|${job.stageId}|${job.attempt}`;
}

/**
 * Dequeues the next job of one of `runIds`. Jobs of other runs (left by other cases on a shared
 * queue) are skipped and stay leased.
 */
export async function dequeueOwn(
  transport: JobTransport,
  runIds: ReadonlySet<string>,
  workerId = "conformance-worker",
): Promise<DequeueResult | null> {
  for (let foreign = 0; foreign < 1000; foreign++) {
    const job = await transport.dequeue(workerId);
    if (job === null || runIds.has(job.workflowRunId)) return job;
  }
  assert.fail("dequeue kept returning jobs of other runs");
}

/** Polls for a job of `runIds` that is expected to be (re)delivered, in real time. */
export async function dequeueEventually(
  transport: JobTransport,
  runIds: ReadonlySet<string>,
  what: string,
  timeoutMs = 5000,
): Promise<DequeueResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await dequeueOwn(transport, runIds);
    if (job) return job;
    if (Date.now() > deadline) assert.fail(`${what}: no job delivered within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export async function assertNothingDelivered(
  transport: JobTransport,
  runIds: ReadonlySet<string>,
  what: string,
): Promise<void> {
  const job = await dequeueOwn(transport, runIds);
  assert.equal(job, null, `${what}: got job ${job ? jobKey(job) : ""}`);
}

export function supports(fixture: JobTransportConformanceFixture, capability: JobTransportCapability): boolean {
  return fixture.supports?.[capability] === true;
}
