import type { KernelDeps } from "../deps.js";
import { PersistenceConflictError } from "../errors.js";
import type { WorkflowStageRecord } from "../records.js";

/** Told when the attempt's lease is gone (lost to another worker, or the run was cancelled). */
export interface LeaseLossListener {
  readonly aborted: boolean;
  abort(reason: unknown): void;
}

interface RunningAttempt {
  stage: WorkflowStageRecord;
  jobId: string | undefined;
  listener: LeaseLossListener;
  /** The tick at which the lease was last extended (or the attempt registered). */
  lastBeat: number;
  inFlight: boolean;
}

/**
 * Extends the leases of every attempt a kernel is running, from one timer instead of one per
 * attempt: a timer is costly to make and most stages finish long before their first heartbeat.
 * The timer ticks at half the heartbeat interval and an attempt is extended every second tick
 * after it registered, so no attempt goes longer than `heartbeatIntervalMs` without one, as
 * with a timer of its own. The timer runs only while some attempt is registered.
 */
class LeaseHeartbeats {
  private readonly attempts = new Set<RunningAttempt>();
  private handle: unknown;
  private ticks = 0;

  constructor(private readonly deps: KernelDeps) {}

  /** Starts extending the attempt's lease; call the returned function when the attempt ends. */
  register(stage: WorkflowStageRecord, jobId: string | undefined, listener: LeaseLossListener): () => void {
    const attempt: RunningAttempt = { stage, jobId, listener, lastBeat: this.ticks, inFlight: false };
    this.attempts.add(attempt);
    if (this.handle === undefined) {
      this.handle = this.deps.timers.setInterval(() => this.tick(), Math.max(1, Math.floor(this.deps.heartbeatIntervalMs / 2)));
    }
    return () => {
      this.attempts.delete(attempt);
      if (this.attempts.size === 0 && this.handle !== undefined) {
        this.deps.timers.clearInterval(this.handle);
        this.handle = undefined;
      }
    };
  }

  private tick(): void {
    const tick = ++this.ticks;
    for (const attempt of this.attempts) {
      if (tick - attempt.lastBeat < 2 || attempt.inFlight || attempt.listener.aborted) continue;
      attempt.lastBeat = tick;
      this.beat(attempt);
    }
  }

  private beat(attempt: RunningAttempt): void {
    const { deps } = this;
    const { stage, jobId, listener } = attempt;
    attempt.inFlight = true;
    const leaseExpiresAt = new Date(deps.clock.now().getTime() + deps.leaseMs);
    deps.persistence
      .updateStage(stage.workflowRunId, stage.stageId, { expectedAttempt: stage.attempt, expectedStatus: "RUNNING", leaseExpiresAt })
      .then(() => (jobId ? deps.jobTransport.touchJob(jobId) : undefined))
      .catch((error: unknown) => {
        if (error instanceof PersistenceConflictError) listener.abort(new Error("Stage attempt lost its lease or the run was cancelled"));
      })
      .finally(() => (attempt.inFlight = false));
  }
}

const heartbeatsByKernel = new WeakMap<KernelDeps, LeaseHeartbeats>();

/** Extends the attempt's lease while it runs; returns the function that stops doing so. */
export function startHeartbeat(deps: KernelDeps, stage: WorkflowStageRecord, jobId: string | undefined, listener: LeaseLossListener): () => void {
  let heartbeats = heartbeatsByKernel.get(deps);
  if (!heartbeats) heartbeatsByKernel.set(deps, (heartbeats = new LeaseHeartbeats(deps)));
  return heartbeats.register(stage, jobId, listener);
}
