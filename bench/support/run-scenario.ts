import { writeHeapSnapshot } from "node:v8";
import { createNodeHost } from "../../engine/hosts/node/index.js";
import { createKernel } from "../../engine/kernel/index.js";
import type { EmitBatchResult, EventSink, PublishedEvent } from "../../engine/kernel/ports.js";
import { InMemoryBlobStore, NoopScheduler } from "../../engine/kernel/testing/index.js";
import { InMemoryJobQueue, InMemoryWorkflowPersistence } from "../../engine/testing/index.js";
import type { Workflow } from "../../engine/core/workflow.js";
import type { Status } from "../../engine/kernel/records.js";
import { stageCount } from "./workflows.js";

export interface ScenarioOptions {
  runs: number;
  concurrency: number;
  /** Gives up waiting after this long (the figures then show what did not finish). */
  timeoutMs?: number;
  /** Called every 5 ms (the node host yields to timers at least that often) and at the end; the caller samples memory here. */
  sample?: () => void;
  /**
   * Measure the heap after a full GC at the end (needs --expose-gc). A forced full GC slows the
   * next scenario run in this process for a while, so only the last one should. @default true
   */
  measureHeap?: boolean;
}

export interface ScenarioOutcome {
  runs: number;
  stagesPerRun: number;
  /** Stage executions the host reported as completed during the timed window. */
  stageExecutions: number;
  /** Jobs the host processed (completed, ghost, failed...). */
  jobsProcessed: number;
  jobsFailed: number;
  elapsedMs: number;
  /** Share of the timed window the event loop was busy (1 = never idle). */
  eventLoopUtilization: number;
  /** CPU time (user + system) this process used during the timed window. */
  cpuMs: number;
  /** Runs by status as stored once the timed window closed. */
  runsByStatus: Partial<Record<Status, number>>;
  /** Events delivered to the sink, after a final outbox flush. */
  eventsPublished: number;
  workflowCompletedEvents: number;
  timedOut: boolean;
  /** Heap in use after a full gc at the end, with every record still stored (needs --expose-gc). */
  heapAtEndMiB?: number;
}

/** Counts events instead of keeping them, so the sink does not inflate the memory figures. */
class CountingEventSink implements EventSink {
  total = 0;
  completed = 0;

  private count(event: PublishedEvent): void {
    this.total++;
    if (event.type === "workflow:completed") this.completed++;
  }

  async emit(event: PublishedEvent): Promise<void> {
    this.count(event);
  }

  // One call per batch, as a real sink's one request per batch: no await per event.
  async emitBatch(events: PublishedEvent[]): Promise<EmitBatchResult> {
    for (const event of events) this.count(event);
    return { failed: [] };
  }
}

const STATUSES: Status[] = ["PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "FAILED", "CANCELLED"];

/**
 * One timed scenario on fresh in-memory adapters: starts a node host, creates `runs` runs at
 * once, and stops the clock when the host has completed every stage of every run (or a job
 * failed and nothing is left to do, or the timeout hit). Then verifies what was stored.
 */
export async function runScenario(workflow: Workflow, options: ScenarioOptions): Promise<ScenarioOutcome> {
  const clock = { now: () => new Date() };
  const persistence = new InMemoryWorkflowPersistence({ clock });
  const jobTransport = new InMemoryJobQueue({ clock });
  const sink = new CountingEventSink();
  const kernel = createKernel({
    persistence,
    blobStore: new InMemoryBlobStore(),
    jobTransport,
    eventSink: sink,
    scheduler: new NoopScheduler(),
    clock,
    registry: { getWorkflow: (id) => (id === workflow.id ? workflow : undefined), listWorkflows: () => [workflow] },
  });

  const stagesPerRun = stageCount(workflow);
  const expected = options.runs * stagesPerRun;
  let stageExecutions = 0;
  let finish: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const host = createNodeHost({
    kernel,
    jobTransport,
    workerId: "bench-worker",
    concurrency: options.concurrency,
    handleSignals: false,
    onError: (error) => console.error("[bench host]", error),
    onJobDone: (_job, result) => {
      if (result?.outcome === "completed" && !result.ghost) stageExecutions++;
      if (stageExecutions >= expected) finish?.();
      // A failed stage means some run can never complete: stop when nothing is queued any more.
      else if (result?.outcome !== "completed" && jobTransport.size === 0) finish?.();
    },
  });

  const sampler = options.sample ? setInterval(options.sample, 5) : undefined;
  await host.start();
  const startedAt = performance.now();
  const eluStart = performance.eventLoopUtilization();
  const cpuStart = process.cpuUsage();
  const creates: Promise<unknown>[] = [];
  for (let i = 0; i < options.runs; i++) {
    creates.push(kernel.dispatch({ type: "run.create", idempotencyKey: `bench-${i}`, workflowId: workflow.id, input: { n: i } }));
  }
  await Promise.all(creates);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    finished.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.timeoutMs ?? 300_000))),
  ]);
  const elapsedMs = performance.now() - startedAt;
  const elu = performance.eventLoopUtilization(eluStart).utilization;
  const cpu = process.cpuUsage(cpuStart);
  clearTimeout(timer);
  options.sample?.();
  const stats = host.stats();
  await host.stop();
  if (sampler) clearInterval(sampler);

  const runsByStatus: Partial<Record<Status, number>> = {};
  for (const status of STATUSES) {
    const runs = await persistence.getRunsByStatus(status);
    if (runs.length) runsByStatus[status] = runs.length;
  }
  // Publish whatever the host's after-job flushes left, then count what the sink saw.
  for (let i = 0; i < 1_000; i++) {
    const { published } = await kernel.dispatch({ type: "outbox.flush", maxEvents: 10_000 });
    if (published === 0) break;
  }
  options.sample?.();
  const gc = options.measureHeap === false ? undefined : (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapAtEndMiB = gc ? process.memoryUsage().heapUsed / (1024 * 1024) : undefined;
  // BENCH_HEAP_SNAPSHOT=<file>: what the stores retain, for `bench/support/heap-summary.ts`.
  if (process.env.BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT);
  // Keeps the adapters reachable until the heap was measured.
  if (persistence.runCount < 0) console.log(jobTransport.size);
  return {
    runs: options.runs,
    stagesPerRun,
    stageExecutions,
    jobsProcessed: stats.jobsProcessed,
    jobsFailed: stats.jobsFailed,
    elapsedMs,
    eventLoopUtilization: elu,
    cpuMs: (cpu.user + cpu.system) / 1000,
    runsByStatus,
    eventsPublished: sink.total,
    workflowCompletedEvents: sink.completed,
    timedOut,
    heapAtEndMiB,
  };
}
