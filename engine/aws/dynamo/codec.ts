/** Record ↔ item conversion: dates travel as ISO-8601 strings (they sort as text), null stays null. */
import type { OutboxRecord, Status, WorkflowLogRecord, WorkflowRunRecord, WorkflowStageRecord } from "../../kernel/records.js";
import type { Item } from "./unit-of-work.js";

export const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);
export const date = (value: unknown): Date | null => (typeof value === "string" ? new Date(value) : null);
const requiredDate = (value: unknown): Date => date(value) ?? new Date(0);
const num = (value: unknown, fallback = 0): number => (typeof value === "number" ? value : fallback);
const numOrNull = (value: unknown): number | null => (typeof value === "number" ? value : null);
const str = (value: unknown): string => (typeof value === "string" ? value : "");
const strOrNull = (value: unknown): string | null => (typeof value === "string" ? value : null);
const orNull = (value: unknown): unknown => (value === undefined ? null : value);

/** Epoch seconds for the TTL attribute. */
export const ttlSeconds = (at: Date, afterSeconds: number): number => Math.floor(at.getTime() / 1000) + afterSeconds;

export function decodeRun(hot: Item, data: Item | null): WorkflowRunRecord {
  return {
    id: str(hot.id),
    createdAt: requiredDate(hot.createdAt),
    updatedAt: requiredDate(hot.updatedAt),
    version: num(hot.version, 1),
    workflowId: str(hot.workflowId),
    workflowName: str(hot.workflowName),
    workflowType: str(hot.workflowType),
    status: hot.status as Status,
    startedAt: date(hot.startedAt),
    completedAt: date(hot.completedAt),
    duration: numOrNull(hot.duration),
    input: data ? orNull(data.input) : null,
    output: data ? orNull(data.output) : null,
    config: ((data?.config as Record<string, unknown> | undefined) ?? {}),
    totalCost: num(hot.totalCost),
    totalTokens: num(hot.totalTokens),
    priority: num(hot.priority, 5),
    metadata: (data?.metadata as Record<string, unknown> | null | undefined) ?? null,
    currentGroup: num(hot.currentGroup),
    lastEventSeq: num(hot.lastEventSeq),
    errorMessage: strOrNull(hot.errorMessage),
  };
}

export function decodeStage(item: Item): WorkflowStageRecord {
  return {
    id: `${str(item.workflowRunId)}:${str(item.stageId)}`,
    createdAt: requiredDate(item.createdAt),
    updatedAt: requiredDate(item.updatedAt),
    version: num(item.version, 1),
    workflowRunId: str(item.workflowRunId),
    stageId: str(item.stageId),
    stageName: str(item.stageName),
    stageNumber: num(item.stageNumber),
    executionGroup: num(item.executionGroup),
    status: item.status as Status,
    attempt: num(item.attempt),
    leaseOwner: strOrNull(item.leaseOwner),
    leaseExpiresAt: date(item.leaseExpiresAt),
    retryAt: date(item.retryAt),
    startedAt: date(item.startedAt),
    completedAt: date(item.completedAt),
    duration: numOrNull(item.duration),
    outputData: orNull(item.outputData),
    config: orNull(item.config),
    suspendedState: orNull(item.suspendedState),
    resumeData: orNull(item.resumeData),
    nextPollAt: date(item.nextPollAt),
    pollInterval: numOrNull(item.pollInterval),
    maxWaitUntil: date(item.maxWaitUntil),
    metrics: (item.metrics as Record<string, number> | null | undefined) ?? null,
    errorMessage: strOrNull(item.errorMessage),
  };
}

export function decodeEvent(item: Item): OutboxRecord {
  return {
    id: `${str(item.workflowRunId)}:${num(item.sequence)}`,
    workflowRunId: str(item.workflowRunId),
    sequence: num(item.sequence),
    eventType: str(item.eventType),
    payload: (item.payload as Record<string, unknown> | undefined) ?? {},
    causationId: str(item.causationId),
    occurredAt: requiredDate(item.occurredAt),
    publishedAt: date(item.publishedAt),
    retryCount: num(item.retryCount),
    dlqAt: date(item.dlqAt),
  };
}

export function decodeLog(item: Item): WorkflowLogRecord {
  return {
    id: str(item.id),
    createdAt: requiredDate(item.createdAt),
    workflowRunId: str(item.workflowRunId),
    stageId: strOrNull(item.stageId),
    level: item.level as WorkflowLogRecord["level"],
    message: str(item.message),
    metadata: (item.metadata as Record<string, unknown> | null | undefined) ?? null,
  };
}

/** Converts a patch value for storage: dates to ISO strings, everything else as is. */
export function encodeValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}
