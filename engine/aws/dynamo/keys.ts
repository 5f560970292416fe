/**
 * Key layout of the engine table (see docs/aws-table-design.md). Every key string is built here,
 * so the layout can be read in one place.
 */
import { createHash } from "node:crypto";
import { WORK_INDEX_SHARDS } from "../definitions.js";
import type { Status } from "../../kernel/records.js";

export interface ItemKey {
  pk: string;
  sk: string;
}

const SEQ_WIDTH = 10;

export const runPk = (runId: string): string => `RUN#${runId}`;

/** Sort keys under a run's partition. `#` sorts before letters, so the run comes first. */
export const SK = {
  run: "#RUN",
  /** Cold half of a run (input, config, metadata, output): kept apart so hot updates stay 1 WCU. */
  runData: "#RUNDATA",
  runPrefix: "#RUN",
  stage: (stageId: string) => `STAGE#${stageId}`,
  stagePrefix: "STAGE#",
  log: (createdAtIso: string, id: string) => `LOG#${createdAtIso}#${id}`,
  logPrefix: "LOG#",
  event: (sequence: number) => `EVENT#${String(sequence).padStart(SEQ_WIDTH, "0")}`,
  eventPrefix: "EVENT#",
  /** Publish mark of a watermark segment ending at `toSequence` (only when it could not ride on an event). */
  pub: (toSequence: number) => `PUB#${String(toSequence).padStart(SEQ_WIDTH, "0")}`,
  pubPrefix: "PUB#",
  job: (stageId: string, attempt: number) => `JOB#${stageId}#${String(attempt).padStart(6, "0")}`,
  jobPrefix: "JOB#",
  single: "#",
} as const;

export const runKey = (runId: string): ItemKey => ({ pk: runPk(runId), sk: SK.run });
export const runDataKey = (runId: string): ItemKey => ({ pk: runPk(runId), sk: SK.runData });
export const stageKey = (runId: string, stageId: string): ItemKey => ({ pk: runPk(runId), sk: SK.stage(stageId) });
export const eventKey = (runId: string, sequence: number): ItemKey => ({ pk: runPk(runId), sk: SK.event(sequence) });
export const idempotencyKey = (commandType: string, key: string): ItemKey => ({
  pk: `IDEM#${commandType}#${key}`,
  sk: SK.single,
});
export const lockKey = (name: string): ItemKey => ({ pk: `LOCK#${name}`, sk: SK.single });
export const aiCallBatchKey = (batchId: string): ItemKey => ({ pk: `AIBATCH#${batchId}`, sk: SK.single });

export const padSequence = (sequence: number): string => String(sequence).padStart(SEQ_WIDTH, "0");

/** Which shard of a work-index bucket a run's items go to: stable per run. */
export function shardOf(runId: string): number {
  if (WORK_INDEX_SHARDS <= 1) return 0;
  return createHash("sha1").update(runId).digest().readUInt32BE(0) % WORK_INDEX_SHARDS;
}

export function allShards(): number[] {
  return Array.from({ length: Math.max(1, WORK_INDEX_SHARDS) }, (_, i) => i);
}

/** Work-index (gsi1) partition keys. */
export const WORK = {
  runsByStatus: (status: Status, shard: number) => `RUNS#${status}#${shard}`,
  runningStages: (shard: number) => `STAGES#RUNNING#${shard}`,
  suspendedStages: (shard: number) => `STAGES#SUSPENDED#${shard}`,
  pendingEvents: (shard: number) => `OUTBOX#PENDING#${shard}`,
  deadEvents: (shard: number) => `OUTBOX#DLQ#${shard}`,
  /** gsi4: runs with unpublished events. */
  outboxRuns: (shard: number) => `OUTBOX#RUNS#${shard}`,
  queuedJobs: (queue: string) => `JOBS#QUEUED#${queue}`,
  leasedJobs: (queue: string) => `JOBS#LEASED#${queue}`,
} as const;

export const RUNS_BY_TIME_PK = "RUNS";
export const runsByWorkflowPk = (workflowId: string): string => `WF#${workflowId}`;

/** Sort key part for a PENDING run: higher priority first, so it is inverted. */
export function invertedPriority(priority: number): string {
  return String(Math.max(0, Math.min(99, 99 - Math.round(priority)))).padStart(2, "0");
}
