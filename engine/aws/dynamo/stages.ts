/** Access patterns of stages: create, get, by run, update with fencing, suspended-due and expired-lease queries. */
import { PersistenceConflictError } from "../../kernel/errors.js";
import type { CreateStageInput, UpdateStageInput, WorkflowStageRecord } from "../../kernel/records.js";
import { INDEX } from "../definitions.js";
import { decodeStage, encodeValue, iso } from "./codec.js";
import type { Condition } from "./expression.js";
import { batchGet, queryShards } from "./index-query.js";
import { SK, WORK, allShards, runPk, shardOf, stageKey } from "./keys.js";
import { conditionsHoldOn, describeConditions, writeConditions, type Scope } from "./scope.js";
import type { Item } from "./unit-of-work.js";

/**
 * Work-index keys of a stage: RUNNING ones with a lease by lease expiry, SUSPENDED ones by next
 * poll; every other stage stays out of the index (sparse), so the maintenance queries only touch
 * stages that may need action.
 */
function stageIndex(item: Item): { gsi1pk: string; gsi1sk: string } | null {
  const runId = item.workflowRunId as string;
  const stageId = item.stageId as string;
  if (item.status === "RUNNING" && typeof item.leaseExpiresAt === "string") {
    return { gsi1pk: WORK.runningStages(shardOf(runId)), gsi1sk: `${item.leaseExpiresAt}#${runId}#${stageId}` };
  }
  if (item.status === "SUSPENDED" && typeof item.nextPollAt === "string") {
    return { gsi1pk: WORK.suspendedStages(shardOf(runId)), gsi1sk: `${item.nextPollAt}#${runId}#${stageId}` };
  }
  return null;
}

export async function createStage(scope: Scope, input: CreateStageInput): Promise<WorkflowStageRecord> {
  const now = iso(scope.clock.now())!;
  const item: Item = {
    entity: "stage",
    workflowRunId: input.workflowRunId,
    stageId: input.stageId,
    createdAt: now,
    updatedAt: now,
    version: 1,
    stageName: input.stageName,
    stageNumber: input.stageNumber,
    executionGroup: input.executionGroup,
    status: input.status,
    attempt: input.attempt ?? 0,
    leaseOwner: input.leaseOwner ?? null,
    leaseExpiresAt: iso(input.leaseExpiresAt ?? null),
    retryAt: null,
    startedAt: iso(input.startedAt ?? null),
    completedAt: null,
    duration: null,
    outputData: null,
    config: input.config ?? null,
    suspendedState: null,
    resumeData: null,
    nextPollAt: null,
    pollInterval: null,
    maxWaitUntil: null,
    metrics: null,
    errorMessage: null,
  };
  Object.assign(item, stageIndex(item) ?? {});
  const created = scope.uow.create(stageKey(input.workflowRunId, input.stageId), item);
  return decodeStage(await scope.ctx.largeItems.restore(created));
}

export async function getStage(scope: Scope, runId: string, stageId: string): Promise<WorkflowStageRecord | null> {
  const item = await scope.uow.read(stageKey(runId, stageId));
  return item ? decodeStage(await scope.ctx.largeItems.restore(item)) : null;
}

export async function getStagesByRun(scope: Scope, runId: string): Promise<WorkflowStageRecord[]> {
  const items = await scope.uow.query(runPk(runId), SK.stagePrefix);
  const stages = await Promise.all(items.map(async (item) => decodeStage(await scope.ctx.largeItems.restore(item))));
  return stages.sort((a, b) => a.stageNumber - b.stageNumber);
}

const STAGE_FIELDS = [
  "status",
  "attempt",
  "leaseOwner",
  "leaseExpiresAt",
  "retryAt",
  "startedAt",
  "completedAt",
  "duration",
  "outputData",
  "suspendedState",
  "resumeData",
  "nextPollAt",
  "pollInterval",
  "maxWaitUntil",
  "metrics",
  "errorMessage",
] as const;

/** Fields the stage's index entry is derived from. */
const INDEX_INPUTS = ["status", "leaseExpiresAt", "nextPollAt"] as const;

export async function updateStage(scope: Scope, runId: string, stageId: string, patch: UpdateStageInput): Promise<WorkflowStageRecord> {
  const key = stageKey(runId, stageId);
  const current = await scope.uow.read(key);
  if (!current) throw new PersistenceConflictError(`Stage ${stageId} of run ${runId} does not exist`);
  if (!conditionsHoldOn(current, patch)) {
    throw new PersistenceConflictError(
      `Stage ${stageId} of run ${runId} changed (${describeConditions(patch)}; now attempt ${String(current.attempt)}, ${String(current.status)})`,
    );
  }
  const set: Item = { updatedAt: iso(scope.clock.now()) };
  for (const field of STAGE_FIELDS) if (patch[field] !== undefined) set[field] = encodeValue(patch[field]);
  const conditions: Condition[] = writeConditions(patch);
  const remove: string[] = [];
  if (INDEX_INPUTS.some((field) => field in set)) {
    const next = { ...current, ...set };
    const before = stageIndex(current);
    const after = stageIndex(next);
    if (after) Object.assign(set, after);
    else if (before) remove.push("gsi1pk", "gsi1sk");
    // The index entry is derived from fields we read: they must not have changed underneath us.
    for (const field of INDEX_INPUTS) {
      conditions.push(current[field] === null || current[field] === undefined
        ? { or: [{ attr: field, op: "not_exists" }, { attr: field, op: "=", value: null }] }
        : { attr: field, op: "=", value: current[field] });
    }
  }
  const updated = scope.uow.update(key, current, { set, remove, add: { version: 1 }, conditions });
  return decodeStage(await scope.ctx.largeItems.restore(updated));
}

export async function deleteStage(scope: Scope, runId: string, stageId: string): Promise<void> {
  scope.uow.delete(stageKey(runId, stageId));
}

async function stagesFromIndex(scope: Scope, pks: string[], now: Date, limit: number, status: string): Promise<WorkflowStageRecord[]> {
  const hits = await queryShards(scope.ctx, pks, {
    indexName: INDEX.work,
    pkAttr: "gsi1pk",
    skAttr: "gsi1sk",
    // "#~" sorts after every "<time>#<run>#<stage>" with that time: due at or before now.
    skTo: `${now.toISOString()}#~`,
    limit,
  });
  const items = await batchGet(scope.ctx, hits.map((hit) => hit.key));
  const stages: WorkflowStageRecord[] = [];
  for (const item of items) {
    // The index is eventually consistent: re-check on the item itself.
    if (item && item.status === status) stages.push(decodeStage(await scope.ctx.largeItems.restore(item)));
  }
  return stages;
}

export async function getSuspendedStagesDue(scope: Scope, now: Date, limit: number): Promise<WorkflowStageRecord[]> {
  const stages = await stagesFromIndex(scope, allShards().map(WORK.suspendedStages), now, limit, "SUSPENDED");
  return stages
    .filter((s) => s.nextPollAt !== null && s.nextPollAt.getTime() <= now.getTime())
    .sort((a, b) => a.nextPollAt!.getTime() - b.nextPollAt!.getTime());
}

export async function getStagesWithExpiredLease(scope: Scope, now: Date, limit: number): Promise<WorkflowStageRecord[]> {
  const stages = await stagesFromIndex(scope, allShards().map(WORK.runningStages), now, limit, "RUNNING");
  return stages.filter((s) => s.leaseExpiresAt !== null && s.leaseExpiresAt.getTime() <= now.getTime());
}
