import { randomUUID } from "node:crypto";
import { GetCommand, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import {
  emptyAICallStats,
  type AICallLogger,
  type AICallStats,
  type CreateAICallInput,
} from "../../core/ai-call-logger.js";
import type { Clock } from "../../kernel/ports.js";
import { toDocumentClient, type DynamoClientLike } from "./document-client.js";
import { mapDynamoError } from "./errors.js";
import { aiCallBatchKey, runKey, stageKey } from "./keys.js";
import { systemClock } from "../../kernel/system-clock.js";


export interface DynamoAICallLoggerOptions {
  client: DynamoClientLike;
  tableName: string;
  /** @default system clock */
  clock?: Clock;
}

/** Aggregates exist for prefixes of two or more segments: one shared "workflow" total would be a hot key. */
const MIN_AGGREGATE_SEGMENTS = 2;
const statsKey = (prefix: string) => ({ pk: `AISTATS#${prefix}`, sk: "#" });
const modelAttr = (modelKey: string, field: string) => `m:${modelKey}:${field}`;

/** Dot-boundary prefixes of a topic that carry an aggregate: `a.b`, `a.b.c`, ... */
function aggregatePrefixes(topic: string): string[] {
  const parts = topic.split(".");
  const prefixes: string[] = [];
  for (let n = MIN_AGGREGATE_SEGMENTS; n <= parts.length; n++) prefixes.push(parts.slice(0, n).join("."));
  return prefixes;
}

/** `workflow.<runId>.stage.<stageId>[...]` → the run and stage whose totals the call adds to. */
function parseStageTopic(topic: string): { runId: string; stageId: string } | null {
  const match = /^workflow\.([^.]+)\.stage\.([^.]+)/.exec(topic);
  return match ? { runId: match[1], stageId: match[2] } : null;
}

/**
 * AICallLogger on the engine table. One item per call (under `AICALL#<topic>`); in the same
 * transaction the call's cost and tokens are ADDed atomically to running totals of every topic
 * prefix (so `getStats` is one read, never a scan) and to the stage's and run's `totalCost` /
 * `totalTokens`. Batch results are recorded exactly once: each result has a deterministic id and a
 * put that fails if it exists, and `isRecorded` checks a marker written after the last one.
 *
 * @example
 * ```ts
 * const aiCallLogger = createDynamoAICallLogger({ client: new DynamoDBClient({}), tableName: "stageflow" });
 * ```
 */
export function createDynamoAICallLogger(options: DynamoAICallLoggerOptions): AICallLogger {
  const client = toDocumentClient(options.client);
  const { tableName } = options;
  const clock = options.clock ?? systemClock;

  async function record(call: CreateAICallInput, id: string, includeTotals: boolean): Promise<void> {
    const now = clock.now();
    const tokens = call.inputTokens + call.outputTokens;
    const callItem = {
      pk: `AICALL#${call.topic}`,
      // The id alone: a batch result logged twice hits the same key and is skipped.
      sk: `CALL#${id}`,
      entity: "aiCall",
      id,
      createdAt: now.toISOString(),
      ...call,
    };
    const stats = aggregatePrefixes(call.topic).map((prefix) => ({
      Update: {
        TableName: tableName,
        Key: statsKey(prefix),
        UpdateExpression: "ADD #calls :one, #in :in, #out :out, #cost :cost, #mc :one, #mi :in, #mo :out, #mcost :cost",
        ExpressionAttributeNames: {
          "#calls": "totalCalls",
          "#in": "totalInputTokens",
          "#out": "totalOutputTokens",
          "#cost": "totalCost",
          "#mc": modelAttr(call.modelKey, "calls"),
          "#mi": modelAttr(call.modelKey, "inputTokens"),
          "#mo": modelAttr(call.modelKey, "outputTokens"),
          "#mcost": modelAttr(call.modelKey, "cost"),
        },
        ExpressionAttributeValues: { ":one": 1, ":in": call.inputTokens, ":out": call.outputTokens, ":cost": call.cost },
      },
    }));
    const owner = parseStageTopic(call.topic);
    const totals =
      includeTotals && owner
        ? [runKey(owner.runId), stageKey(owner.runId, owner.stageId)].map((Key) => ({
            Update: {
              TableName: tableName,
              Key,
              UpdateExpression: "ADD totalCost :cost, totalTokens :tokens",
              // Never create a stray run or stage item from a call.
              ConditionExpression: "attribute_exists(pk)",
              ExpressionAttributeValues: { ":cost": call.cost, ":tokens": tokens },
            },
          }))
        : [];
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: callItem, ConditionExpression: "attribute_not_exists(pk)" } },
          ...stats,
          ...totals,
        ],
      }),
    );
  }

  async function logOnce(call: CreateAICallInput, id: string): Promise<void> {
    try {
      await record(call, id, true);
    } catch (error) {
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      // The call item exists: this result was recorded before (a resumed stage); nothing to add.
      if (reasons[0]?.Code === "ConditionalCheckFailed") return;
      // The run or stage item is missing (a topic outside a run): record without their totals.
      if (reasons.some((r) => r.Code === "ConditionalCheckFailed")) {
        await record(call, id, false).catch((retryError: unknown) => {
          throw mapDynamoError(retryError, tableName, "Log AI call");
        });
        return;
      }
      throw mapDynamoError(error, tableName, "Log AI call");
    }
  }

  return {
    async logCall(call) {
      await logOnce(call, randomUUID());
    },

    async logBatchResults(batchId, results) {
      for (const [index, result] of results.entries()) await logOnce({ ...result, batchId }, `${batchId}#${index}`);
      await client.send(
        new PutCommand({ TableName: tableName, Item: { ...aiCallBatchKey(batchId), entity: "aiBatch", recordedAt: clock.now().toISOString(), count: results.length } }),
      );
    },

    async isRecorded(batchId) {
      const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: aiCallBatchKey(batchId), ConsistentRead: true }));
      return Item !== undefined;
    },

    async getStats(topicPrefix): Promise<AICallStats> {
      const prefix = topicPrefix.replace(/\.+$/, "");
      if (prefix.split(".").length < MIN_AGGREGATE_SEGMENTS) {
        throw new RangeError(`getStats("${topicPrefix}"): topic prefixes need at least ${MIN_AGGREGATE_SEGMENTS} segments (e.g. "workflow.<runId>")`);
      }
      const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: statsKey(prefix), ConsistentRead: true }));
      if (!Item) return emptyAICallStats();
      const stats = emptyAICallStats();
      stats.totalCalls = Number(Item.totalCalls ?? 0);
      stats.totalInputTokens = Number(Item.totalInputTokens ?? 0);
      stats.totalOutputTokens = Number(Item.totalOutputTokens ?? 0);
      stats.totalTokens = stats.totalInputTokens + stats.totalOutputTokens;
      stats.totalCost = Number(Item.totalCost ?? 0);
      for (const [attr, value] of Object.entries(Item)) {
        const match = /^m:(.*):(calls|inputTokens|outputTokens|cost)$/.exec(attr);
        if (!match) continue;
        const model = (stats.perModel[match[1]] ??= { calls: 0, inputTokens: 0, outputTokens: 0, cost: 0 });
        model[match[2] as "calls"] = Number(value);
      }
      return stats;
    },
  };
}
