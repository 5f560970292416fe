/** Access patterns of logs: append (after the commit, batched) and read a run's logs in order. */
import { randomUUID } from "node:crypto";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { CreateLogInput, WorkflowLogRecord } from "../../kernel/records.js";
import { decodeLog, iso } from "./codec.js";
import { mapDynamoError } from "./errors.js";
import { SK, runPk } from "./keys.js";
import type { Scope } from "./scope.js";
import type { DynamoContext, Item } from "./unit-of-work.js";

let counter = 0;

/**
 * Logs are diagnostics, not state: they are written with BatchWriteItem once the unit of work has
 * committed (a rolled-back transaction leaves none), instead of inside the transaction where each
 * item would cost double and count against the 100-item limit.
 */
export function createLogs(scope: Scope, logs: CreateLogInput[]): void {
  if (logs.length === 0) return;
  const now = iso(scope.clock.now())!;
  const items: Item[] = logs.map((log) => {
    const id = randomUUID();
    // The counter keeps logs of one millisecond in the order they were written.
    const order = (counter++ % 1_000_000).toString().padStart(6, "0");
    return {
      pk: runPk(log.workflowRunId),
      sk: SK.log(`${now}#${order}`, id),
      entity: "log",
      id,
      createdAt: now,
      workflowRunId: log.workflowRunId,
      stageId: log.stageId ?? null,
      level: log.level,
      message: log.message,
      metadata: log.metadata ?? null,
    };
  });
  scope.uow.afterCommit(() => batchWrite(scope.ctx, items));
}

async function batchWrite(ctx: DynamoContext, items: Item[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      try {
        const result = await ctx.client.send(new BatchWriteCommand({ RequestItems: { [ctx.tableName]: pending } }));
        pending = (result.UnprocessedItems?.[ctx.tableName] ?? []) as typeof pending;
      } catch (error) {
        throw mapDynamoError(error, ctx.tableName, "BatchWriteItem of logs");
      }
      if (pending.length) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
    }
  }
}

export async function getLogsByRun(scope: Scope, runId: string, options: { limit?: number } = {}): Promise<WorkflowLogRecord[]> {
  const items = await scope.uow.query(runPk(runId), SK.logPrefix, { limit: options.limit });
  return items.map(decodeLog);
}
