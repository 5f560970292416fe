import type { JobExecuteResult } from "../../kernel/commands.js";
import type { Kernel } from "../../kernel/kernel.js";
import type { DequeueResult, EnqueueJobInput, JobTransport } from "../../kernel/ports.js";
import { dispatchJob, executeAndAcknowledge } from "../shared/execute-job.js";
import { runMaintenance, type MaintenanceTickResult } from "../shared/maintenance-tick.js";

export interface NodeHostConfig {
  kernel: Kernel;
  jobTransport: JobTransport;
  workerId: string;
  /** Maintenance tick interval (claim, poll suspended, reap, flush). @default 10000 */
  orchestrationIntervalMs?: number;
  /** How long an idle worker waits before asking the queue again (transports that can notify wake it sooner). @default 1000 */
  jobPollIntervalMs?: number;
  /** Jobs leased longer than this are handed back. @default 60000 */
  staleLeaseThresholdMs?: number;
  /** RUNNING runs untouched this long are re-driven by the maintenance tick. @default 60000 */
  stuckRunThresholdMs?: number;
  /** Jobs executed at once by this worker. @default 4 */
  concurrency?: number;
  /** On stop, how long to wait for in-flight jobs. @default 30000 */
  shutdownTimeoutMs?: number;
  /** Stop on SIGTERM / SIGINT. @default true */
  handleSignals?: boolean;
  /** Publish outbox events right after each job instead of waiting for the tick. @default true */
  flushOutboxAfterJobs?: boolean;
  /**
   * When a one-stage group's commit starts a group of one stage, claim that stage for this worker
   * in the same commit (`job.execute { claimNextStage }`) and run it in the same slot at once: its
   * job is never enqueued and it needs no claim transaction, so a chain of stages costs one
   * transaction and no queue round trip per stage. If this worker dies in between, the stage's
   * lease expires and `lease.reapStale` retries it. @default true
   */
  chainStages?: boolean;
  /**
   * Stages one slot runs in a row that way before it enqueues the next one and goes back to the
   * queue, so queued runs and higher priorities get their turn. @default 10
   */
  maxChainedStages?: number;
  /**
   * Called after every job (for logging and progress displays), chained stages included: those
   * never were queue messages and come with a job id `chained:<runId>:<stageId>:<attempt>`.
   */
  onJobDone?: (job: DequeueResult, result: JobExecuteResult | undefined, error?: unknown) => void;
  /** Called when a loop hits an unexpected error. @default console.error */
  onError?: (error: unknown) => void;
}

export interface NodeHostStats {
  jobsProcessed: number;
  jobsSucceeded: number;
  jobsFailed: number;
  inFlight: number;
  ticks: number;
}

export interface NodeHost {
  start(): Promise<void>;
  /** Stops taking jobs and waits (bounded by shutdownTimeoutMs) for in-flight ones. */
  stop(): Promise<void>;
  readonly isRunning: boolean;
  stats(): NodeHostStats;
  /** Runs one maintenance pass now. */
  runMaintenanceTick(): Promise<MaintenanceTickResult>;
}

type Subscribable = JobTransport & { subscribe?: (listener: () => void) => () => void };

/**
 * A long-running worker: a job loop with `concurrency` slots and a maintenance loop. With a
 * transport that notifies on enqueue (the in-memory queue), a new run's first stage starts
 * within milliseconds of `run.create`.
 *
 * @example
 * ```ts
 * const host = createNodeHost({ kernel, jobTransport, workerId: "worker-1", concurrency: 8 });
 * await host.start();
 * ```
 */
export function createNodeHost(config: NodeHostConfig): NodeHost {
  const transport = config.jobTransport as Subscribable;
  const concurrency = Math.max(1, config.concurrency ?? 4);
  const pollMs = config.jobPollIntervalMs ?? 1000;
  const chainStages = config.chainStages ?? true;
  const maxChainedStages = Math.max(0, config.maxChainedStages ?? 10);
  const onError = config.onError ?? ((error: unknown) => console.error("[stageflow host]", error));
  const maintenanceOptions = {
    workerId: config.workerId,
    staleLeaseThresholdMs: config.staleLeaseThresholdMs,
    stuckThresholdMs: config.stuckRunThresholdMs,
  };
  const inFlight = new Set<Promise<void>>();
  const stats: NodeHostStats = { jobsProcessed: 0, jobsSucceeded: 0, jobsFailed: 0, inFlight: 0, ticks: 0 };
  let running = false;
  let wake: (() => void) | undefined;
  let slotFree: (() => void) | undefined;
  let loopDone: Promise<void> | undefined;
  let tickTimer: ReturnType<typeof setInterval> | undefined;
  let tickInProgress: Promise<unknown> | undefined;
  let flushScheduled = false;
  let unsubscribe: (() => void) | undefined;

  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const waitForWork = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  // One flush at a time per host: jobs that finish while a flush runs ask for one more after it,
  // so a busy host publishes in batches instead of contending for the flush lock after every job.
  let flushing = false;
  let flushAgain = false;
  const flush = () => {
    flushScheduled = false;
    flushing = true;
    config.kernel
      .dispatch({ type: "outbox.flush" })
      .catch(onError)
      .finally(() => {
        flushing = false;
        if (flushAgain) {
          flushAgain = false;
          scheduleFlush();
        }
      });
  };
  const scheduleFlush = () => {
    if (config.flushOutboxAfterJobs === false || flushScheduled) return;
    if (flushing) {
      flushAgain = true;
      return;
    }
    flushScheduled = true;
    setImmediate(flush);
  };

  const count = (result: JobExecuteResult | undefined) => {
    stats.jobsProcessed++;
    if (result && result.outcome !== "failed") stats.jobsSucceeded++;
    else stats.jobsFailed++;
  };

  // A chained stage was claimed by the previous stage's commit, so it runs here even when the host
  // is stopping (it is in-flight work like any other); only claiming yet another one stops.
  const claimsNext = (chained: number) => chainStages && running && chained < maxChainedStages;

  const processJob = async (job: DequeueResult) => {
    const first = await executeAndAcknowledge(config.kernel, transport, job, config.workerId, { claimNextStage: claimsNext(0) });
    count(first.result);
    config.onJobDone?.(job, first.result, first.error);
    let next = first.result?.nextJob;
    for (let chained = 1; next; chained++) {
      // On an infrastructure error there is nothing to hand back: the claimed stage keeps this
      // worker's lease until it expires, and lease.reapStale then retries it.
      const outcome = await dispatchJob(config.kernel, next, config.workerId, { claim: next.claim, claimNextStage: claimsNext(chained) }).then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const result = outcome.ok ? outcome.result : undefined;
      count(result);
      config.onJobDone?.(asChainedJob(next), result, outcome.ok ? undefined : outcome.error);
      next = result?.nextJob;
    }
    scheduleFlush();
  };

  // With a transport that answers without I/O (the in-memory queue) the loop could run on
  // microtasks alone for as long as there is work, starving timers (lease heartbeats, the
  // maintenance tick) and the after-job outbox flush. It hands the event loop a turn every few ms.
  let lastYield = performance.now();
  const yieldEvery = 5;

  const jobLoop = async () => {
    while (running) {
      if (performance.now() - lastYield >= yieldEvery) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
        continue;
      }
      if (inFlight.size >= concurrency) {
        // One waiter for "a slot is free" instead of a Promise.race that adds a reaction to
        // every in-flight job each time.
        await new Promise<void>((resolve) => (slotFree = resolve));
        continue;
      }
      let job: DequeueResult | null = null;
      try {
        job = await transport.dequeue(config.workerId);
      } catch (error) {
        onError(error);
      }
      if (!running) {
        if (job) await transport.fail(job.jobId, "worker stopping", true).catch(onError);
        break;
      }
      if (!job) {
        await waitForWork(pollMs);
        continue;
      }
      const task = processJob(job).finally(() => {
        inFlight.delete(task);
        stats.inFlight = inFlight.size;
        const free = slotFree;
        slotFree = undefined;
        free?.();
        notify();
      });
      inFlight.add(task);
      stats.inFlight = inFlight.size;
    }
  };

  const tick = async () => {
    if (tickInProgress) return;
    tickInProgress = runMaintenance(config.kernel, maintenanceOptions)
      .then((result) => {
        stats.ticks++;
        for (const failure of result.errors) onError(failure.error);
      })
      .catch(onError)
      .finally(() => (tickInProgress = undefined));
    await tickInProgress;
  };

  const onSignal = () => void host.stop();

  const host: NodeHost = {
    get isRunning() {
      return running;
    },
    async start() {
      if (running) return;
      running = true;
      unsubscribe = transport.subscribe?.(notify);
      if (config.handleSignals !== false) {
        processRef.once("SIGTERM", onSignal);
        processRef.once("SIGINT", onSignal);
      }
      loopDone = jobLoop().catch(onError);
      tickTimer = setInterval(() => void tick(), config.orchestrationIntervalMs ?? 10_000);
      void tick();
    },
    async stop() {
      if (!running) return;
      running = false;
      notify();
      unsubscribe?.();
      if (tickTimer) clearInterval(tickTimer);
      processRef.off("SIGTERM", onSignal);
      processRef.off("SIGINT", onSignal);
      const drained = Promise.all([loopDone, ...inFlight, tickInProgress]);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, config.shutdownTimeoutMs ?? 30_000)));
      await Promise.race([drained, timeout]);
      clearTimeout(timer);
    },
    stats: () => ({ ...stats }),
    runMaintenanceTick: () => runMaintenance(config.kernel, maintenanceOptions),
  };
  return host;
}

const processRef = globalThis.process;

/** How a chained stage (never a queue message) is reported to `onJobDone`. */
function asChainedJob(job: EnqueueJobInput): DequeueResult {
  return {
    jobId: `chained:${job.workflowRunId}:${job.stageId}:${job.attempt}`,
    workflowRunId: job.workflowRunId,
    workflowId: job.workflowId,
    stageId: job.stageId,
    priority: job.priority ?? 5,
    attempt: job.attempt,
    maxAttempts: 1,
    payload: job.payload ?? {},
  };
}
