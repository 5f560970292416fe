import { PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Clock, DequeueResult, EnqueueJobInput, JobRecord, JobTransport } from "../../kernel/ports.js";
import type { Status } from "../../kernel/records.js";
import { INDEX, RETENTION } from "../definitions.js";
import { toDocumentClient, type DynamoClientLike } from "./document-client.js";
import { mapDynamoError } from "./errors.js";
import { ExpressionBuilder, type Condition } from "./expression.js";
import { queryIndex } from "./index-query.js";
import { SK, WORK, invertedPriority, runPk, type ItemKey } from "./keys.js";
import { LargeItemGuard } from "./large-items.js";
import { queryPartition, type DynamoContext, type Item } from "./unit-of-work.js";
import { systemClock } from "../../kernel/system-clock.js";

const TERMINAL = ["COMPLETED", "FAILED", "CANCELLED"] as const;
const ms = (value: number): string => String(Math.max(0, Math.floor(value))).padStart(15, "0");

export interface DynamoJobQueueOptions {
  client: DynamoClientLike;
  tableName: string;
  /** @default system clock */
  clock?: Clock;
  /** Separate queues on one table (e.g. per environment). @default "default" */
  queueName?: string;
  /** Deliveries before a failing job is dropped. @default 5 */
  maxDeliveries?: number;
}

/** Job id ↔ item key: the id carries (run, stage, attempt) so no lookup is needed. */
function encodeJobId(runId: string, stageId: string, attempt: number): string {
  return Buffer.from(JSON.stringify([runId, stageId, attempt])).toString("base64url");
}

function decodeJobId(jobId: string): ItemKey | null {
  try {
    const [runId, stageId, attempt] = JSON.parse(Buffer.from(jobId, "base64url").toString()) as [string, string, number];
    return { pk: runPk(runId), sk: SK.job(stageId, attempt) };
  } catch {
    return null;
  }
}

/**
 * JobTransport on the engine table, for the node host: no SQS needed.
 *
 * Queued jobs sit in the work index ordered by priority then age; a worker leases one with a
 * conditional update that holds only while the job is still queued, so racing workers never lease
 * one job twice. Scheduled jobs wait in their own index bucket ordered by due time and are
 * promoted when due; leased jobs are ordered by lease time, which `releaseStaleJobs` reads and
 * `touchJob` refreshes.
 *
 * @example
 * ```ts
 * const jobs = createDynamoJobQueue({ client: new DynamoDBClient({}), tableName: "stageflow" });
 * ```
 */
export function createDynamoJobQueue(options: DynamoJobQueueOptions): JobTransport {
  const ctx: DynamoContext = {
    client: toDocumentClient(options.client),
    tableName: options.tableName,
    largeItems: new LargeItemGuard(undefined),
  };
  const clock = options.clock ?? systemClock;
  const queue = options.queueName ?? "default";
  const maxDeliveries = options.maxDeliveries ?? 5;
  const queuedPk = WORK.queuedJobs(queue);
  const leasedPk = WORK.leasedJobs(queue);
  const scheduledPk = `JOBS#SCHEDULED#${queue}`;

  const queuedIndex = (item: Item) => ({
    gsi1pk: queuedPk,
    gsi1sk: `${invertedPriority(item.priority as number)}#${ms(item.createdAtMs as number)}#${item.seq as string}`,
  });

  /** Conditional update; false when the condition failed (someone else got there first). */
  async function update(key: ItemKey, set: Item, remove: string[], conditions: Condition[], add?: Record<string, number>): Promise<Item | null> {
    const e = new ExpressionBuilder();
    const clauses: string[] = [];
    const sets = Object.entries(set).map(([attr, value]) => `${e.name(attr)} = ${e.value(value)}`);
    if (sets.length) clauses.push(`SET ${sets.join(", ")}`);
    if (remove.length) clauses.push(`REMOVE ${remove.map((attr) => e.name(attr)).join(", ")}`);
    const adds = Object.entries(add ?? {}).map(([attr, delta]) => `${e.name(attr)} ${e.value(delta)}`);
    if (adds.length) clauses.push(`ADD ${adds.join(", ")}`);
    const condition = e.conditions([{ attr: "pk", op: "exists" }, ...conditions]);
    try {
      const result = await ctx.client.send(
        new UpdateCommand({
          TableName: ctx.tableName,
          Key: key,
          UpdateExpression: clauses.join(" "),
          ConditionExpression: condition,
          ExpressionAttributeNames: e.names,
          ExpressionAttributeValues: e.expressionAttributeValues,
          ReturnValues: "ALL_NEW",
        }),
      );
      return result.Attributes ?? null;
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") return null;
      throw mapDynamoError(error, ctx.tableName, "Job queue update");
    }
  }

  let seq = 0;

  async function enqueue(job: EnqueueJobInput): Promise<string> {
    const jobId = encodeJobId(job.workflowRunId, job.stageId, job.attempt);
    const now = clock.now();
    const visibleAt = job.scheduledFor?.getTime() ?? 0;
    const scheduled = visibleAt > now.getTime();
    const item: Item = {
      pk: runPk(job.workflowRunId),
      sk: SK.job(job.stageId, job.attempt),
      entity: "job",
      jobId,
      queue,
      workflowRunId: job.workflowRunId,
      workflowId: job.workflowId,
      stageId: job.stageId,
      attempt: job.attempt,
      priority: job.priority ?? 5,
      payload: job.payload ?? {},
      status: scheduled ? "SUSPENDED" : "PENDING",
      deliveries: 0,
      workerId: null,
      lockedAtMs: null,
      visibleAt,
      createdAt: now.toISOString(),
      createdAtMs: now.getTime(),
      // Breaks ties within one millisecond in enqueue order.
      seq: `${ms(now.getTime())}${String(seq++ % 1e6).padStart(6, "0")}#${jobId}`,
    };
    Object.assign(item, scheduled ? { gsi1pk: scheduledPk, gsi1sk: `${ms(visibleAt)}#${jobId}` } : queuedIndex(item));
    const e = new ExpressionBuilder();
    try {
      await ctx.client.send(
        new PutCommand({
          TableName: ctx.tableName,
          Item: item,
          // A live job with the same (run, stage, attempt) means this enqueue is a duplicate.
          ConditionExpression: e.condition({ or: [{ attr: "pk", op: "not_exists" }, { attr: "status", op: "in", values: TERMINAL }] }),
          ExpressionAttributeNames: e.names,
          ExpressionAttributeValues: e.values,
        }),
      );
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw mapDynamoError(error, ctx.tableName, "Enqueue");
    }
    return jobId;
  }

  async function promoteDueJobs(now: number): Promise<void> {
    const due = await queryIndex(ctx, { indexName: INDEX.work, pkAttr: "gsi1pk", skAttr: "gsi1sk", pk: scheduledPk, skTo: `${ms(now)}#~`, limit: 25 });
    for (const hit of due) {
      const item = await update(hit.key, { status: "PENDING" }, [], [
        { attr: "gsi1pk", op: "=", value: scheduledPk },
        { attr: "visibleAt", op: "<=", value: now },
      ]);
      if (item) await update(hit.key, queuedIndex(item), [], [{ attr: "status", op: "=", value: "PENDING" }]);
    }
  }

  function toResult(item: Item): DequeueResult {
    return {
      jobId: item.jobId as string,
      workflowRunId: item.workflowRunId as string,
      workflowId: item.workflowId as string,
      stageId: item.stageId as string,
      priority: item.priority as number,
      attempt: item.attempt as number,
      maxAttempts: maxDeliveries,
      payload: (item.payload as Record<string, unknown>) ?? {},
    };
  }

  async function dequeue(workerId = "worker"): Promise<DequeueResult | null> {
    const now = clock.now().getTime();
    await promoteDueJobs(now);
    let startKey: Item | undefined;
    for (let page = 0; page < 5; page++) {
      const candidates = await queryIndex(ctx, { indexName: INDEX.work, pkAttr: "gsi1pk", skAttr: "gsi1sk", pk: queuedPk, limit: 10, startKey });
      if (candidates.length === 0) return null;
      for (const candidate of candidates) {
        const leased = await update(
          candidate.key,
          { status: "RUNNING", workerId, lockedAt: new Date(now).toISOString(), lockedAtMs: now, gsi1pk: leasedPk, gsi1sk: `${ms(now)}#${candidate.key.pk}#${candidate.key.sk}` },
          [],
          // Holds only while the job is still queued: exactly one racing worker wins it.
          [{ attr: "gsi1pk", op: "=", value: queuedPk }, { attr: "status", op: "=", value: "PENDING" }],
          { deliveries: 1 },
        );
        if (leased) return toResult(leased);
      }
      startKey = candidates.at(-1)?.raw;
    }
    return null;
  }

  async function finish(jobId: string, status: (typeof TERMINAL)[number], extra: Item = {}): Promise<void> {
    const key = decodeJobId(jobId);
    if (!key) return;
    const expiresAt = Math.floor(clock.now().getTime() / 1000) + RETENTION.finishedJobSeconds;
    await update(key, { status, expiresAt, workerId: null, ...extra }, ["gsi1pk", "gsi1sk"], [
      { attr: "status", op: "in", values: ["PENDING", "RUNNING", "SUSPENDED"] },
    ]);
  }

  async function requeue(key: ItemKey, conditions: Condition[], extra: Item = {}): Promise<boolean> {
    const current = await update(key, { status: "PENDING", workerId: null, lockedAtMs: null, visibleAt: 0, ...extra }, [], conditions);
    if (!current) return false;
    await update(key, queuedIndex(current), [], [{ attr: "status", op: "=", value: "PENDING" }]);
    return true;
  }

  async function jobsOfRun(workflowRunId: string): Promise<Item[]> {
    const items = await queryPartition(ctx, runPk(workflowRunId), SK.jobPrefix);
    return items.filter((item) => item.queue === queue);
  }

  const statusOf = (item: Item): Status => item.status as Status;

  return {
    enqueue,
    async enqueueParallel(jobs) {
      return Promise.all(jobs.map(enqueue));
    },
    dequeue,
    async complete(jobId) {
      await finish(jobId, "COMPLETED");
    },
    async suspend(jobId, nextPollAt) {
      const key = decodeJobId(jobId);
      if (!key) return;
      const at = nextPollAt.getTime();
      await update(
        key,
        { status: "SUSPENDED", visibleAt: at, nextPollAt: nextPollAt.toISOString(), workerId: null, lockedAtMs: null, gsi1pk: scheduledPk, gsi1sk: `${ms(at)}#${jobId}` },
        [],
        [{ attr: "status", op: "=", value: "RUNNING" }],
      );
    },
    async fail(jobId, error, shouldRetry = true) {
      const key = decodeJobId(jobId);
      if (!key) return;
      const conditions: Condition[] = [
        { attr: "status", op: "=", value: "RUNNING" },
        { attr: "deliveries", op: "<", value: maxDeliveries },
      ];
      if (shouldRetry && (await requeue(key, conditions, { lastError: error }))) return;
      await finish(jobId, "FAILED", { lastError: error });
    },
    async touchJob(jobId) {
      const key = decodeJobId(jobId);
      if (!key) return;
      const now = clock.now().getTime();
      await update(key, { lockedAt: new Date(now).toISOString(), lockedAtMs: now, gsi1sk: `${ms(now)}#${key.pk}#${key.sk}` }, [], [
        { attr: "status", op: "=", value: "RUNNING" },
      ]);
    },
    async releaseStaleJobs(staleThresholdMs = 60_000) {
      const cutoff = clock.now().getTime() - staleThresholdMs;
      const stale = await queryIndex(ctx, { indexName: INDEX.work, pkAttr: "gsi1pk", skAttr: "gsi1sk", pk: leasedPk, skTo: `${ms(cutoff)}#~`, limit: 100 });
      let released = 0;
      for (const hit of stale) {
        const ok = await requeue(hit.key, [
          { attr: "status", op: "=", value: "RUNNING" },
          { attr: "lockedAtMs", op: "<=", value: cutoff },
        ]);
        if (ok) released++;
      }
      return released;
    },
    async cancelByRun(workflowRunId) {
      let cancelled = 0;
      for (const item of await jobsOfRun(workflowRunId)) {
        if ((TERMINAL as readonly string[]).includes(item.status as string)) continue;
        await finish(item.jobId as string, "CANCELLED");
        cancelled++;
      }
      return cancelled;
    },
    async getJobsByWorkflowRun(workflowRunId): Promise<JobRecord[]> {
      return (await jobsOfRun(workflowRunId))
        .filter((item) => !(TERMINAL as readonly string[]).includes(item.status as string))
        .map((item) => ({
          id: item.jobId as string,
          workflowRunId: item.workflowRunId as string,
          workflowId: item.workflowId as string,
          stageId: item.stageId as string,
          status: statusOf(item),
          priority: item.priority as number,
          attempt: item.attempt as number,
          workerId: (item.workerId as string | null) ?? null,
          lockedAt: typeof item.lockedAtMs === "number" ? new Date(item.lockedAtMs) : null,
          nextPollAt: item.status === "SUSPENDED" && typeof item.visibleAt === "number" ? new Date(item.visibleAt) : null,
          createdAt: new Date(item.createdAt as string),
        }));
    },
  };
}
