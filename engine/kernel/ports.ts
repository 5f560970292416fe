/**
 * The kernel's ports: every capability it needs from the outside world. The kernel never does
 * I/O of its own; adapters (in-memory, AWS, your own) implement these interfaces.
 */
import type { Workflow } from "../core/workflow.js";
import type { AICallLogger } from "../core/ai-call-logger.js";
import type { KernelEvent } from "./events.js";
import type {
  CreateLogInput,
  CreateOutboxEventInput,
  CreateRunInput,
  CreateStageInput,
  IdempotencyAcquireResult,
  ListRunsFilter,
  ListRunsPage,
  OutboxEventKey,
  OutboxRecord,
  Status,
  UpdateRunInput,
  UpdateStageInput,
  WorkflowLogRecord,
  WorkflowRunRecord,
  WorkflowStageRecord,
} from "./records.js";

export type { AICallLogger };

// Clock -----------------------------------------------------------------------------------------

/** Injectable time source. Adapters stamp times with the same clock the kernel uses. */
export interface Clock {
  now(): Date;
}

/** Timers the kernel uses for lease heartbeats; FakeClock provides a time-skipping version. */
export interface Timers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

// Persistence -----------------------------------------------------------------------------------

/**
 * Runs, stages, logs, outbox events, idempotency keys and locks.
 *
 * Contract every adapter must meet (checked by `runPersistenceConformanceSuite`):
 * - Writes made inside `withTransaction` commit together or not at all; a throw rolls back.
 * - Reads inside a transaction see committed state plus the transaction's own writes.
 * - A write whose conditions (`expectedVersion`, `expectedStatus`, `expectedAttempt`) do not hold
 *   throws `PersistenceConflictError`, at once or when the transaction commits.
 * - `appendOutboxEvents` numbers each run's events 1, 2, 3, ... without gaps.
 * - `createRun` with an id that exists throws `PersistenceConflictError`.
 */
export interface Persistence {
  withTransaction<T>(fn: (tx: Persistence) => Promise<T>): Promise<T>;

  createRun(input: CreateRunInput): Promise<WorkflowRunRecord>;
  getRun(id: string): Promise<WorkflowRunRecord | null>;
  updateRun(id: string, patch: UpdateRunInput): Promise<WorkflowRunRecord>;
  /** Runs in a status: PENDING ones by priority (high first) then age; others oldest update first. */
  getRunsByStatus(status: Status, options?: { limit?: number; updatedBefore?: Date }): Promise<WorkflowRunRecord[]>;
  listRuns(filter: ListRunsFilter): Promise<ListRunsPage>;

  createStage(input: CreateStageInput): Promise<WorkflowStageRecord>;
  getStage(workflowRunId: string, stageId: string): Promise<WorkflowStageRecord | null>;
  getStagesByRun(workflowRunId: string): Promise<WorkflowStageRecord[]>;
  updateStage(workflowRunId: string, stageId: string, patch: UpdateStageInput): Promise<WorkflowStageRecord>;
  deleteStage(workflowRunId: string, stageId: string): Promise<void>;
  /** SUSPENDED stages whose nextPollAt is at or before `now`, earliest first. */
  getSuspendedStagesDue(now: Date, limit: number): Promise<WorkflowStageRecord[]>;
  /** RUNNING stages whose lease expired at or before `now`. */
  getStagesWithExpiredLease(now: Date, limit: number): Promise<WorkflowStageRecord[]>;

  createLogs(logs: CreateLogInput[]): Promise<void>;
  getLogsByRun(workflowRunId: string, options?: { limit?: number }): Promise<WorkflowLogRecord[]>;

  /** Appends events with the next per-run sequence numbers. */
  appendOutboxEvents(events: CreateOutboxEventInput[]): Promise<OutboxRecord[]>;
  /** Unpublished, not dead-lettered events, ordered by run and sequence. */
  getUnpublishedOutboxEvents(limit: number): Promise<OutboxRecord[]>;
  getOutboxEventsByRun(workflowRunId: string, options?: { afterSequence?: number; limit?: number }): Promise<OutboxRecord[]>;
  markOutboxEventsPublished(keys: OutboxEventKey[], publishedAt: Date): Promise<void>;
  /** Returns the new retry count. */
  incrementOutboxRetryCount(key: OutboxEventKey): Promise<number>;
  moveOutboxEventToDLQ(key: OutboxEventKey, at: Date): Promise<void>;
  getDLQOutboxEvents(limit: number): Promise<OutboxRecord[]>;
  /** Clears dead-letter mark and retry count so the events are published again. */
  replayDLQOutboxEvents(keys: OutboxEventKey[]): Promise<void>;

  /**
   * Claims an idempotency key. A key IN_PROGRESS for longer than `staleAfterMs` is taken over
   * (its holder crashed).
   */
  acquireIdempotencyKey(key: string, commandType: string, options: { now: Date; staleAfterMs: number }): Promise<IdempotencyAcquireResult>;
  completeIdempotencyKey(key: string, commandType: string, result: unknown): Promise<void>;
  releaseIdempotencyKey(key: string, commandType: string): Promise<void>;

  /** A named lock with expiry; true if `owner` holds it now. */
  tryAcquireLock(name: string, owner: string, options: { now: Date; ttlMs: number }): Promise<boolean>;
  releaseLock(name: string, owner: string): Promise<void>;
}

// BlobStore -------------------------------------------------------------------------------------

/** Large payload storage (stage outputs above the inline limit, artifacts). */
export interface BlobStore {
  put(key: string, data: unknown): Promise<void>;
  get(key: string): Promise<unknown>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every key under a prefix; returns how many. */
  deletePrefix?(prefix: string): Promise<number>;
}

// JobTransport ----------------------------------------------------------------------------------

export interface EnqueueJobInput {
  workflowRunId: string;
  workflowId: string;
  stageId: string;
  /** The stage attempt this job will claim; with run and stage it de-duplicates enqueues. */
  attempt: number;
  priority?: number;
  payload?: Record<string, unknown>;
  /** Not delivered before this time. */
  scheduledFor?: Date;
  /**
   * Set by a re-drive: the job may have been accepted before and lost since (dead-lettered, or
   * its worker died). A transport whose de-duplication outlives delivery (SQS FIFO keeps ids for
   * 5 minutes) must send it under a fresh de-duplication id; a transport that de-duplicates only
   * while the job is queued can ignore it. A duplicate delivery is harmless: the claim fences it.
   */
  redrive?: boolean;
}

export interface DequeueResult {
  jobId: string;
  workflowRunId: string;
  workflowId: string;
  stageId: string;
  priority: number;
  attempt: number;
  maxAttempts: number;
  payload: Record<string, unknown>;
}

export interface JobRecord {
  id: string;
  workflowRunId: string;
  workflowId: string;
  stageId: string;
  status: Status;
  priority: number;
  attempt: number;
  workerId: string | null;
  lockedAt: Date | null;
  nextPollAt: Date | null;
  createdAt: Date;
}

/**
 * Job queue. A job only nudges a worker to run `job.execute` for (run, stage); the stage record
 * is the truth, so delivering a job twice is harmless. Enqueueing the same (run, stage, attempt)
 * twice delivers once.
 */
export interface JobTransport {
  enqueue(job: EnqueueJobInput): Promise<string>;
  enqueueParallel(jobs: EnqueueJobInput[]): Promise<string[]>;
  /** Leases the next job (priority first, then age) to this worker. */
  dequeue(workerId?: string): Promise<DequeueResult | null>;
  complete(jobId: string): Promise<void>;
  /** Hands the job back, to be delivered again at `nextPollAt`. */
  suspend(jobId: string, nextPollAt: Date): Promise<void>;
  fail(jobId: string, error: string, shouldRetry?: boolean): Promise<void>;
  /** Extends the lease of a job being executed. */
  touchJob(jobId: string): Promise<void>;
  /** Hands jobs whose lease is older than the threshold back to the queue. */
  releaseStaleJobs(staleThresholdMs?: number): Promise<number>;
  /** Removes queued jobs of a run (or marks them so workers drop them). */
  cancelByRun(workflowRunId: string): Promise<number>;
  getJobsByWorkflowRun?(workflowRunId: string): Promise<JobRecord[]>;
}

// EventSink -------------------------------------------------------------------------------------

/** An event as published: the kernel event plus its stable id and per-run sequence. */
export type PublishedEvent = KernelEvent & { eventId: string; sequence: number };

export interface EmitBatchResult {
  /** Indexes (into the batch) of events that were not published. */
  failed: { index: number; error: string }[];
}

export interface EventSink {
  emit(event: PublishedEvent): Promise<void>;
  /** Optional batch form; events of one run arrive in order. */
  emitBatch?(events: PublishedEvent[]): Promise<EmitBatchResult>;
}

// Scheduler -------------------------------------------------------------------------------------

/** Deferred command triggers (e.g. wake a suspended stage at its nextPollAt). */
export interface Scheduler {
  schedule(commandType: string, payload: Record<string, unknown>, runAt: Date): Promise<void>;
  cancel(commandType: string, correlationId: string): Promise<void>;
}

// WorkflowRegistry ------------------------------------------------------------------------------

export interface WorkflowRegistry {
  getWorkflow(id: string): Workflow<never, unknown, Record<string, unknown>> | Workflow | undefined;
  /** Optional: all workflows (used by `GET /workflows`). */
  listWorkflows?(): Workflow[];
}
