/** Access patterns of runs: create, get, update, by status, list by workflow or time. */
import { PersistenceConflictError } from "../../kernel/errors.js";
import type {
  CreateRunInput,
  ListRunsFilter,
  ListRunsPage,
  Status,
  UpdateRunInput,
  WorkflowRunRecord,
} from "../../kernel/records.js";
import { INDEX } from "../definitions.js";
import { decodeRun, encodeValue, iso } from "./codec.js";
import { batchGet, queryIndexPage, queryShards } from "./index-query.js";
import {
  RUNS_BY_TIME_PK,
  SK,
  WORK,
  allShards,
  invertedPriority,
  runDataKey,
  runKey,
  runPk,
  runsByWorkflowPk,
  shardOf,
} from "./keys.js";
import { conditionsHoldOn, describeConditions, writeConditions, type Scope } from "./scope.js";
import { RUN_OUTPUT_REF } from "./outbox.js";
import type { Item } from "./unit-of-work.js";

/** Work-index keys of a run: PENDING ones by priority then age, others by when they entered the status. */
function runStatusIndex(id: string, status: Status, priority: number, createdAt: string, statusChangedAt: string): Item {
  const gsi1sk = status === "PENDING" ? `${invertedPriority(priority)}#${createdAt}#${id}` : `${statusChangedAt}#${id}`;
  return { gsi1pk: WORK.runsByStatus(status, shardOf(id)), gsi1sk };
}

export async function createRun(scope: Scope, input: CreateRunInput): Promise<WorkflowRunRecord> {
  const now = iso(scope.clock.now())!;
  const hot: Item = {
    entity: "run",
    id: input.id,
    createdAt: now,
    updatedAt: now,
    statusChangedAt: now,
    version: 1,
    workflowId: input.workflowId,
    workflowName: input.workflowName,
    workflowType: input.workflowType,
    status: input.status,
    startedAt: iso(input.startedAt),
    completedAt: null,
    duration: null,
    totalCost: 0,
    totalTokens: 0,
    priority: input.priority,
    currentGroup: input.currentGroup ?? 0,
    lastEventSeq: 0,
    // Publish watermark: every event up to pubSeq is published or dead-lettered (see outbox.ts).
    pubSeq: 0,
    errorMessage: null,
    ...runStatusIndex(input.id, input.status, input.priority, now, now),
    gsi2pk: runsByWorkflowPk(input.workflowId),
    gsi2sk: `${now}#${input.id}`,
    gsi3pk: RUNS_BY_TIME_PK,
    gsi3sk: `${now}#${input.id}`,
  };
  const data: Item = {
    entity: "runData",
    input: input.input === undefined ? null : input.input,
    config: input.config ?? {},
    metadata: input.metadata ?? null,
    output: null,
  };
  const createdHot = scope.uow.create(runKey(input.id), hot);
  const createdData = scope.uow.create(runDataKey(input.id), data);
  return decodeRun(createdHot, await scope.ctx.largeItems.restore(createdData));
}

/**
 * The run's data item ready to decode: offloaded fields restored, and an output stored once in the
 * run's `workflow:completed` event (see outbox.ts) read from there.
 */
async function restoreData(scope: Scope, id: string, data: Item): Promise<Item> {
  const restored = await scope.ctx.largeItems.restore({ ...data });
  const ref = restored.output as Record<string, unknown> | null | undefined;
  if (ref && typeof ref === "object" && typeof ref[RUN_OUTPUT_REF] === "string") {
    const event = await scope.uow.read({ pk: runPk(id), sk: ref[RUN_OUTPUT_REF] as string });
    const payload = event ? ((await scope.ctx.largeItems.restore(event)).payload as { output?: unknown } | undefined) : undefined;
    restored.output = payload?.output ?? null;
  }
  return restored;
}

/** The run's hot and cold items as stored (offloaded fields still markers). */
async function readRunItems(scope: Scope, id: string): Promise<{ hot: Item; data: Item | null } | null> {
  const items = await scope.uow.query(runPk(id), SK.runPrefix);
  const hot = items.find((item) => item.sk === SK.run);
  if (!hot) return null;
  return { hot, data: items.find((item) => item.sk === SK.runData) ?? null };
}

export async function getRun(scope: Scope, id: string): Promise<WorkflowRunRecord | null> {
  const items = await readRunItems(scope, id);
  if (!items) return null;
  return decodeRun(items.hot, items.data ? await restoreData(scope, id, items.data) : null);
}

const HOT_FIELDS = ["status", "startedAt", "completedAt", "duration", "currentGroup", "errorMessage"] as const;

export async function updateRun(scope: Scope, id: string, patch: UpdateRunInput): Promise<WorkflowRunRecord> {
  const items = await readRunItems(scope, id);
  if (!items) throw new PersistenceConflictError(`Run ${id} does not exist`);
  const { hot } = items;
  if (!conditionsHoldOn(hot, patch)) {
    throw new PersistenceConflictError(
      `Run ${id} changed (${describeConditions(patch)}; now version ${String(hot.version)}, ${String(hot.status)})`,
    );
  }
  const now = iso(scope.clock.now())!;
  const set: Item = { updatedAt: now };
  for (const field of HOT_FIELDS) if (patch[field] !== undefined) set[field] = encodeValue(patch[field]);
  const conditions = writeConditions(patch);
  if (patch.status !== undefined && patch.status !== hot.status) {
    set.statusChangedAt = now;
    Object.assign(set, runStatusIndex(id, patch.status, hot.priority as number, hot.createdAt as string, now));
    // The index entry is derived from the status we read: it must still be that status.
    conditions.push({ attr: "status", op: "=", value: hot.status });
  }
  const add: Record<string, number> = { version: 1 };
  if (patch.addCost) add.totalCost = patch.addCost;
  if (patch.addTokens) add.totalTokens = patch.addTokens;
  const updatedHot = scope.uow.update(runKey(id), hot, { set, add, conditions });
  let data = items.data;
  if (patch.output !== undefined && data) {
    data = scope.uow.update(runDataKey(id), data, { set: { output: patch.output } });
  }
  return decodeRun(updatedHot, data ? await restoreData(scope, id, data) : null);
}

/** Fetches whole runs (hot + cold items) for keys found in an index, dropping runs that vanished. */
async function loadRuns(scope: Scope, ids: readonly string[]): Promise<WorkflowRunRecord[]> {
  const items = await batchGet(scope.ctx, ids.flatMap((id) => [runKey(id), runDataKey(id)]));
  const runs: WorkflowRunRecord[] = [];
  for (let i = 0; i < ids.length; i++) {
    const hot = items[2 * i];
    const data = items[2 * i + 1];
    if (hot) runs.push(decodeRun(hot, data ? await restoreData(scope, ids[i], data) : null));
  }
  return runs;
}

const runIdOf = (pk: string): string => pk.slice("RUN#".length);

export async function getRunsByStatus(
  scope: Scope,
  status: Status,
  options: { limit?: number; updatedBefore?: Date } = {},
): Promise<WorkflowRunRecord[]> {
  const limit = options.limit ?? 100;
  const hits = await queryShards(
    scope.ctx,
    allShards().map((shard) => WORK.runsByStatus(status, shard)),
    // For non-PENDING runs the index orders by status change; updatedBefore filters on the record.
    {
      indexName: INDEX.work,
      pkAttr: "gsi1pk",
      skAttr: "gsi1sk",
      limit: options.updatedBefore ? undefined : limit,
      skTo: options.updatedBefore && status !== "PENDING" ? `${options.updatedBefore.toISOString()}` : undefined,
    },
  );
  let runs = (await loadRuns(scope, hits.map((hit) => runIdOf(hit.key.pk)))).filter((run) => run.status === status);
  if (options.updatedBefore) {
    const before = options.updatedBefore.getTime();
    runs = runs.filter((run) => run.updatedAt.getTime() < before);
  }
  runs =
    status === "PENDING"
      ? runs.sort((a, b) => b.priority - a.priority || a.createdAt.getTime() - b.createdAt.getTime())
      : runs.sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
  return runs.slice(0, limit);
}

interface Cursor {
  /** Index entry to continue after (ExclusiveStartKey). */
  k: Item;
}

export async function listRuns(scope: Scope, filter: ListRunsFilter): Promise<ListRunsPage> {
  const limit = Math.max(1, Math.min(filter.limit ?? 50, 1000));
  const index = filter.workflowId
    ? { indexName: INDEX.runsByWorkflow, pkAttr: "gsi2pk", skAttr: "gsi2sk", pk: runsByWorkflowPk(filter.workflowId) }
    : { indexName: INDEX.runsByTime, pkAttr: "gsi3pk", skAttr: "gsi3sk", pk: RUNS_BY_TIME_PK };
  let startKey = filter.cursor ? (JSON.parse(Buffer.from(filter.cursor, "base64url").toString()) as Cursor).k : undefined;
  const runs: WorkflowRunRecord[] = [];
  const cursorAfter = (raw: Item): string => Buffer.from(JSON.stringify({ k: raw } satisfies Cursor)).toString("base64url");
  for (;;) {
    const page = await queryIndexPage(scope.ctx, { ...index, descending: true, limit: Math.max(limit - runs.length, 10), startKey });
    const loaded = await loadRuns(scope, page.hits.map((hit) => runIdOf(hit.key.pk)));
    const byId = new Map(loaded.map((run) => [run.id, run]));
    for (const [i, hit] of page.hits.entries()) {
      const run = byId.get(runIdOf(hit.key.pk));
      if (run && (!filter.status || run.status === filter.status)) runs.push(run);
      if (runs.length >= limit) {
        const more = i < page.hits.length - 1 || page.lastKey !== undefined;
        return { runs, nextCursor: more ? cursorAfter(hit.raw) : undefined };
      }
    }
    if (!page.lastKey) return { runs };
    startKey = page.lastKey;
  }
}
