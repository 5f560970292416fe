/** The kernel's commands and their results (the reference engine's 11, with the same fields). */
import type { EnqueueJobInput } from "./ports.js";

export interface RunCreateCommand {
  readonly type: "run.create";
  readonly idempotencyKey: string;
  readonly workflowId: string;
  readonly input: unknown;
  /** Per-stage config keyed by stage id; each is parsed with the stage's config schema. */
  readonly config?: Record<string, unknown>;
  /** 1 (lowest) to 10 (highest). @default 5 */
  readonly priority?: number;
  readonly metadata?: Record<string, unknown>;
}
export interface RunCreateResult {
  readonly workflowRunId: string;
  /** RUNNING: the first group was started in the same transaction. */
  readonly status: "PENDING" | "RUNNING";
}

export interface RunClaimPendingCommand {
  readonly type: "run.claimPending";
  readonly workerId: string;
  readonly maxClaims?: number;
}
export interface RunClaimPendingResult {
  readonly claimed: ReadonlyArray<{ readonly workflowRunId: string; readonly workflowId: string; readonly jobIds: string[] }>;
}

export interface RunTransitionCommand {
  readonly type: "run.transition";
  readonly workflowRunId: string;
}
export interface RunTransitionResult {
  readonly action: "advanced" | "completed" | "failed" | "noop" | "redriven";
  readonly nextGroup?: number;
}

export interface RunCancelCommand {
  readonly type: "run.cancel";
  readonly workflowRunId: string;
  readonly reason?: string;
}
export interface RunCancelResult {
  readonly cancelled: boolean;
}

export interface RunRerunFromCommand {
  readonly type: "run.rerunFrom";
  readonly workflowRunId: string;
  readonly fromStageId: string;
}
export interface RunRerunFromResult {
  readonly workflowRunId: string;
  readonly fromStageId: string;
  readonly deletedStages: string[];
}

export interface JobExecuteCommand {
  readonly type: "job.execute";
  readonly idempotencyKey?: string;
  readonly workflowRunId: string;
  readonly workflowId: string;
  readonly stageId: string;
  /** Ignored beyond compatibility: the stage's config comes from the run. */
  readonly config?: Record<string, unknown>;
  /** Lease owner. @default the kernel's workerId */
  readonly workerId?: string;
  /** Transport job id, so heartbeats also extend the message lease. */
  readonly jobId?: string;
  /**
   * Hand the next stage back instead of enqueueing it when this stage's commit starts a group of
   * exactly one stage (a chain): the result's `nextJob` is then the caller's to execute at once or
   * to enqueue. Skips a queue round trip per stage of a chain. A caller that dies before doing
   * either loses nothing: the stage is PENDING without a job, which `run.reapStuck` re-drives.
   */
  readonly returnNextJob?: boolean;
  /**
   * Like `returnNextJob`, but the next stage of the chain is also claimed for this worker in the
   * same commit (created RUNNING with this worker's lease, its `stage:started` written with the
   * previous stage's `stage:completed`), and what it reads is handed over in memory. Pass the
   * result's `nextJob.claim` back as `claim` to run it: no claim transaction and no reads of
   * earlier outputs. Such a stage cannot be enqueued instead; a caller that never runs it holds
   * its lease until it expires, and `lease.reapStale` then retries it like a crashed worker's.
   */
  readonly claimNextStage?: boolean;
  /** A stage this worker claimed in the previous stage's commit (`nextJob.claim`); skips the claim. */
  readonly claim?: StageClaim;
}

/**
 * A stage attempt claimed for a worker by the commit of the stage before it. Opaque beyond these
 * fields: it is valid only for the kernel that returned it, and only once.
 */
export interface StageClaim {
  readonly workflowRunId: string;
  readonly stageId: string;
  /** The attempt (fencing token) the claim holds. */
  readonly attempt: number;
  readonly leaseOwner: string;
  readonly leaseExpiresAt: Date;
}
export interface JobExecuteResult {
  readonly outcome: "completed" | "suspended" | "failed" | "retrying" | "deferred" | "skipped";
  readonly output?: unknown;
  readonly error?: string;
  /** suspended: next check; retrying/deferred: when the job should be delivered again. */
  readonly nextPollAt?: Date;
  /** The result was discarded: the run is no longer active or this attempt lost its lease. Do not retry. */
  readonly ghost?: boolean;
  /**
   * With `returnNextJob`: the next stage's job, not enqueued. Execute it or enqueue it. With
   * `claimNextStage` it also carries the `claim`: execute it with that claim.
   */
  readonly nextJob?: EnqueueJobInput & { readonly claim?: StageClaim };
}

export interface StagePollSuspendedCommand {
  readonly type: "stage.pollSuspended";
  readonly maxChecks?: number;
  /** Check only this stage (used by scheduled wake-ups). */
  readonly workflowRunId?: string;
  readonly stageId?: string;
}
export interface StagePollSuspendedResult {
  readonly checked: number;
  readonly resumed: number;
  readonly failed: number;
  readonly resumedWorkflowRunIds: string[];
}

export interface LeaseReapStaleCommand {
  readonly type: "lease.reapStale";
  readonly staleThresholdMs: number;
}
export interface LeaseReapStaleResult {
  readonly released: number;
}

export interface RunReapStuckCommand {
  readonly type: "run.reapStuck";
  /** A RUNNING run untouched for this long is examined. @default 60000 */
  readonly stuckThresholdMs?: number;
  readonly maxRuns?: number;
}
export interface RunReapStuckResult {
  readonly redriven: number;
  readonly failed: number;
}

export interface OutboxFlushCommand {
  readonly type: "outbox.flush";
  readonly maxEvents?: number;
  /**
   * Publish only events at least this old. Where a stream publisher is the primary path (AWS),
   * the flush is a backstop and this keeps it from publishing what the stream is about to.
   * @default 0
   */
  readonly minAgeMs?: number;
}
export interface OutboxFlushResult {
  readonly published: number;
  readonly failed: number;
  readonly deadLettered: number;
}

export interface PluginReplayDLQCommand {
  readonly type: "plugin.replayDLQ";
  readonly maxEvents?: number;
}
export interface PluginReplayDLQResult {
  readonly replayed: number;
}

export type KernelCommand =
  | RunCreateCommand
  | RunClaimPendingCommand
  | RunTransitionCommand
  | RunCancelCommand
  | RunRerunFromCommand
  | JobExecuteCommand
  | StagePollSuspendedCommand
  | LeaseReapStaleCommand
  | RunReapStuckCommand
  | OutboxFlushCommand
  | PluginReplayDLQCommand;

export type KernelCommandType = KernelCommand["type"];

export type CommandResult<T extends KernelCommand> = T extends RunCreateCommand
  ? RunCreateResult
  : T extends RunClaimPendingCommand
    ? RunClaimPendingResult
    : T extends RunTransitionCommand
      ? RunTransitionResult
      : T extends RunCancelCommand
        ? RunCancelResult
        : T extends RunRerunFromCommand
          ? RunRerunFromResult
          : T extends JobExecuteCommand
            ? JobExecuteResult
            : T extends StagePollSuspendedCommand
              ? StagePollSuspendedResult
              : T extends LeaseReapStaleCommand
                ? LeaseReapStaleResult
                : T extends RunReapStuckCommand
                  ? RunReapStuckResult
                  : T extends OutboxFlushCommand
                    ? OutboxFlushResult
                    : T extends PluginReplayDLQCommand
                      ? PluginReplayDLQResult
                      : never;
