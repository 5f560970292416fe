import type { LogLevel, Status } from "../core/types.js";

export type { LogLevel, Status };

/** A stage output or artifact stored in the BlobStore instead of inline. */
export interface BlobReference {
  $blob: string;
  size: number;
}

export function isBlobReference(value: unknown): value is BlobReference {
  return typeof value === "object" && value !== null && typeof (value as BlobReference).$blob === "string";
}

export interface WorkflowRunRecord {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  /** Optimistic concurrency: bumped by every write. */
  version: number;
  workflowId: string;
  workflowName: string;
  workflowType: string;
  status: Status;
  startedAt: Date | null;
  completedAt: Date | null;
  duration: number | null;
  input: unknown;
  /** Final group's output (inline or a BlobReference). */
  output: unknown | null;
  /** Per-stage config keyed by stage id. */
  config: Record<string, unknown>;
  totalCost: number;
  totalTokens: number;
  priority: number;
  metadata: Record<string, unknown> | null;
  /** Execution group being worked on. */
  currentGroup: number;
  /** Sequence number of the last outbox event written for this run (events are gapless). */
  lastEventSeq: number;
  errorMessage: string | null;
}

export interface WorkflowStageRecord {
  /** `<runId>:<stageId>` */
  id: string;
  createdAt: Date;
  updatedAt: Date;
  version: number;
  workflowRunId: string;
  stageId: string;
  stageName: string;
  stageNumber: number;
  executionGroup: number;
  status: Status;
  /** Number of times this stage was claimed for execution: the fencing token of the current attempt. */
  attempt: number;
  /** Worker holding the lease of the current attempt. */
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  /** A PENDING stage waiting for a retry may not be claimed before this time. */
  retryAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  duration: number | null;
  /** Output (inline or a BlobReference). */
  outputData: unknown | null;
  config: unknown | null;
  suspendedState: unknown | null;
  resumeData: unknown | null;
  nextPollAt: Date | null;
  pollInterval: number | null;
  maxWaitUntil: Date | null;
  metrics: Record<string, number> | null;
  errorMessage: string | null;
}

export interface WorkflowLogRecord {
  id: string;
  createdAt: Date;
  workflowRunId: string;
  stageId: string | null;
  level: LogLevel;
  message: string;
  metadata: Record<string, unknown> | null;
}

export interface OutboxRecord {
  /** Stable event id: `<runId>:<sequence>`; consumers de-duplicate on it. */
  id: string;
  workflowRunId: string;
  sequence: number;
  eventType: string;
  payload: Record<string, unknown>;
  causationId: string;
  occurredAt: Date;
  publishedAt: Date | null;
  retryCount: number;
  dlqAt: Date | null;
}

export interface IdempotencyRecord {
  key: string;
  commandType: string;
  status: "IN_PROGRESS" | "COMPLETED";
  result: unknown;
  createdAt: Date;
}

// Inputs ----------------------------------------------------------------------------------------

export interface CreateRunInput {
  id: string;
  workflowId: string;
  workflowName: string;
  workflowType: string;
  status: Status;
  input: unknown;
  config: Record<string, unknown>;
  priority: number;
  metadata?: Record<string, unknown> | null;
  startedAt?: Date | null;
  currentGroup?: number;
}

/** Conditions a write must meet; a failed condition throws PersistenceConflictError. */
export interface WriteConditions {
  expectedVersion?: number;
  expectedStatus?: Status | readonly Status[];
}

export interface UpdateRunInput extends WriteConditions {
  status?: Status;
  startedAt?: Date | null;
  completedAt?: Date | null;
  duration?: number | null;
  output?: unknown;
  currentGroup?: number;
  errorMessage?: string | null;
  /** Added to the stored totals. */
  addCost?: number;
  addTokens?: number;
}

export interface CreateStageInput {
  workflowRunId: string;
  stageId: string;
  stageName: string;
  stageNumber: number;
  executionGroup: number;
  status: Status;
  config?: unknown;
  attempt?: number;
  /** A stage created already claimed (RUNNING): the lease of its first attempt. */
  leaseOwner?: string | null;
  leaseExpiresAt?: Date | null;
  startedAt?: Date | null;
}

export interface UpdateStageInput extends WriteConditions {
  /** The write only holds if the stored attempt equals this (fencing). */
  expectedAttempt?: number;
  status?: Status;
  attempt?: number;
  leaseOwner?: string | null;
  leaseExpiresAt?: Date | null;
  retryAt?: Date | null;
  startedAt?: Date | null;
  completedAt?: Date | null;
  duration?: number | null;
  outputData?: unknown;
  suspendedState?: unknown;
  resumeData?: unknown;
  nextPollAt?: Date | null;
  pollInterval?: number | null;
  maxWaitUntil?: Date | null;
  metrics?: Record<string, number> | null;
  errorMessage?: string | null;
}

export interface CreateLogInput {
  workflowRunId: string;
  stageId?: string | null;
  level: LogLevel;
  message: string;
  metadata?: Record<string, unknown> | null;
}

export interface CreateOutboxEventInput {
  workflowRunId: string;
  eventType: string;
  payload: Record<string, unknown>;
  causationId: string;
  occurredAt: Date;
}

export interface OutboxEventKey {
  workflowRunId: string;
  sequence: number;
}

export interface ListRunsFilter {
  workflowId?: string;
  status?: Status;
  limit?: number;
  /** Opaque cursor returned by the previous page. */
  cursor?: string;
}

export interface ListRunsPage {
  runs: WorkflowRunRecord[];
  nextCursor?: string;
}

export type IdempotencyAcquireResult =
  | { status: "acquired" }
  | { status: "completed"; result: unknown }
  | { status: "in_progress"; since: Date };
