import type { Workflow } from "../../engine/core/workflow.js";
import type { AICallLogger } from "../../engine/core/ai-call-logger.js";
import { createKernel, type Kernel, type KernelConfig } from "../../engine/kernel/index.js";
import type { JobExecuteResult } from "../../engine/kernel/commands.js";
import type { BlobStore, JobTransport, Persistence } from "../../engine/kernel/ports.js";
import { CollectingEventSink, FakeClock, InMemoryBlobStore, NoopScheduler } from "../../engine/kernel/testing/index.js";
import { InMemoryJobQueue, InMemoryWorkflowPersistence } from "../../engine/testing/index.js";

export interface Harness {
  kernel: Kernel;
  clock: FakeClock;
  persistence: InMemoryWorkflowPersistence;
  queue: InMemoryJobQueue;
  sink: CollectingEventSink;
  blobStore: InMemoryBlobStore;
  scheduler: NoopScheduler;
  /** Executes queued jobs until none is deliverable now; returns the results. */
  drain(options?: { workerId?: string; maxJobs?: number }): Promise<JobExecuteResult[]>;
  /** Runs one queued job. */
  runNextJob(workerId?: string): Promise<JobExecuteResult | null>;
  start(workflowId: string, input: unknown, extra?: { config?: Record<string, unknown>; idempotencyKey?: string; priority?: number }): Promise<string>;
}

/** Wraps the harness's own adapters before the kernel gets them (fault injection, spies). */
export interface HarnessPortWrappers {
  persistence?: (persistence: InMemoryWorkflowPersistence) => Persistence;
  jobTransport?: (queue: InMemoryJobQueue) => JobTransport;
  blobStore?: (blobStore: InMemoryBlobStore) => BlobStore;
}

export function createHarness(
  workflows: Workflow<never, unknown, Record<string, unknown>>[] | Workflow[],
  options: Partial<KernelConfig> & { aiCallLogger?: AICallLogger; wrap?: HarnessPortWrappers } = {},
): Harness {
  const { wrap = {}, ...overrides } = options;
  const clock = new FakeClock();
  const persistence = new InMemoryWorkflowPersistence({ clock });
  const queue = new InMemoryJobQueue({ clock });
  const sink = new CollectingEventSink();
  const blobStore = new InMemoryBlobStore();
  const scheduler = new NoopScheduler();
  const byId = new Map((workflows as Workflow[]).map((w) => [w.id, w]));
  const kernel = createKernel({
    persistence: wrap.persistence ? wrap.persistence(persistence) : persistence,
    blobStore: wrap.blobStore ? wrap.blobStore(blobStore) : blobStore,
    jobTransport: wrap.jobTransport ? wrap.jobTransport(queue) : queue,
    eventSink: sink,
    scheduler,
    clock,
    timers: clock,
    random: () => 0.5,
    registry: { getWorkflow: (id) => byId.get(id), listWorkflows: () => [...byId.values()] },
    ...overrides,
  });
  let keys = 0;
  const runNextJob = async (workerId = "worker-1") => {
    const job = await queue.dequeue(workerId);
    if (!job) return null;
    const result = await kernel.dispatch({
      type: "job.execute",
      workflowRunId: job.workflowRunId,
      workflowId: job.workflowId,
      stageId: job.stageId,
      workerId,
      jobId: job.jobId,
    });
    if (result.outcome === "deferred" && result.nextPollAt) await queue.suspend(job.jobId, result.nextPollAt);
    else await queue.complete(job.jobId);
    return result;
  };
  return {
    kernel,
    clock,
    persistence,
    queue,
    sink,
    blobStore,
    scheduler,
    runNextJob,
    async drain(options = {}) {
      const results: JobExecuteResult[] = [];
      for (let i = 0; i < (options.maxJobs ?? 10_000); i++) {
        const result = await runNextJob(options.workerId);
        if (!result) break;
        results.push(result);
      }
      return results;
    },
    async start(workflowId, input, extra = {}) {
      const { workflowRunId } = await kernel.dispatch({
        type: "run.create",
        idempotencyKey: extra.idempotencyKey ?? `key-${++keys}`,
        workflowId,
        input,
        config: extra.config,
        priority: extra.priority,
      });
      return workflowRunId;
    },
  };
}

export async function flushAll(harness: Harness): Promise<void> {
  await harness.kernel.dispatch({ type: "outbox.flush", maxEvents: 100_000 });
}
