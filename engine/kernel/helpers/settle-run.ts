import { TERMINAL_STATUSES } from "../../core/types.js";
import type { Workflow } from "../../core/workflow.js";
import type { KernelDeps } from "../deps.js";
import type { KernelEventInput } from "../events.js";
import type { Persistence } from "../ports.js";
import type { UpdateRunInput, WorkflowRunRecord, WorkflowStageRecord } from "../records.js";
import { noEffects, type AfterCommit } from "./effects.js";
import { recordEvents } from "./outbox.js";
import { blobKeys, storeValue } from "./stored-values.js";
import { createGroupStages, storedGroupOutput, type ClaimFor } from "./workflow-plan.js";

export type SettleAction = "advanced" | "completed" | "failed" | "suspended" | "resumed" | "noop";

export interface SettleInput {
  run: WorkflowRunRecord;
  workflow: Workflow;
  /** Events of the stage change that led here; written before the run's own events (the array is appended to). */
  events: KernelEventInput[];
  causationId: string;
  addCost?: number;
  addTokens?: number;
  /** The stage record as the caller's transaction just wrote it (saves reading it back). */
  changed?: WorkflowStageRecord;
  /** Claim the next group for this worker if it and the current group are one stage each (see `createGroupStages`). */
  claimNextFor?: ClaimFor;
}

export interface SettleResult {
  action: SettleAction;
  effects: AfterCommit;
  nextGroup?: number;
  /** With `claimNextFor`: the next group's one stage, created RUNNING for that worker. */
  claimed?: WorkflowStageRecord;
}

/**
 * After a stage changed state (inside the same transaction), decides what the run does next:
 * start the next group, complete, fail, suspend, resume, or nothing. The run is always written
 * with the version that was read, so of two stages finishing at once exactly one sees the group
 * complete (the other's transaction conflicts, retries and then sees the first's commit).
 */
export async function settleRun(tx: Persistence, deps: KernelDeps, input: SettleInput): Promise<SettleResult> {
  const { run, workflow } = input;
  const now = deps.clock.now();
  const group = run.currentGroup;
  const planned = workflow.getStagesInExecutionGroup(group);
  // Only the current group's records matter. A one-stage group reads its one record instead of
  // every stage of the run (and every earlier output with it): constant cost per commit.
  const onlyId = planned.length === 1 ? planned[0]!.id : undefined;
  let groupRecords: WorkflowStageRecord[];
  let byId: Map<string, WorkflowStageRecord> | undefined;
  if (onlyId !== undefined) {
    const single = input.changed?.stageId === onlyId ? input.changed : await tx.getStage(run.id, onlyId);
    groupRecords = single ? [single] : [];
  } else {
    byId = new Map();
    for (const stage of await tx.getStagesByRun(run.id)) byId.set(stage.stageId, stage);
    groupRecords = [];
    for (const stage of planned) {
      const record = byId.get(stage.id);
      if (record) groupRecords.push(record);
    }
  }
  // Callers hand over a fresh array; the run's own events follow the stage's.
  const events = input.events;
  const patch: UpdateRunInput = { expectedVersion: run.version, addCost: input.addCost, addTokens: input.addTokens };
  const effects = noEffects();
  let action: SettleAction = "noop";
  let nextGroup: number | undefined;
  let claimed: WorkflowStageRecord | undefined;

  const failed = groupRecords.find((s) => s.status === "FAILED");
  const allDone = groupRecords.length === planned.length && groupRecords.every((s) => s.status === "COMPLETED" || s.status === "SKIPPED");
  const active = groupRecords.filter((s) => !TERMINAL_STATUSES.has(s.status));

  if (failed && run.status !== "FAILED") {
    action = "failed";
    Object.assign(patch, {
      status: "FAILED",
      completedAt: now,
      duration: run.startedAt ? now.getTime() - run.startedAt.getTime() : null,
      errorMessage: `Stage ${failed.stageId} failed: ${failed.errorMessage ?? "unknown error"}`,
    } satisfies UpdateRunInput);
    // Siblings that have not started (or wait on a batch) will never be needed.
    for (const sibling of active) {
      if (sibling.status === "PENDING" || sibling.status === "SUSPENDED") {
        await tx.updateStage(run.id, sibling.stageId, { status: "CANCELLED", nextPollAt: null, retryAt: null });
      }
    }
    events.push({ type: "workflow:failed", workflowId: run.workflowId, error: patch.errorMessage!, failedStageId: failed.stageId });
    effects.cancelJobsOfRuns.push(run.id);
  } else if (allDone && group + 1 < workflow.executionGroups.length) {
    action = "advanced";
    nextGroup = group + 1;
    patch.currentGroup = nextGroup;
    if (run.status === "SUSPENDED") {
      // The run leaves SUSPENDED here just as in the "resumed" branch, so consumers hear of it.
      patch.status = "RUNNING";
      events.push({ type: "workflow:resumed", workflowId: run.workflowId });
    }
    // Only after a one-stage group: the records the claim hands over are then complete (earlier
    // groups were final when this stage was claimed, and its own output is the one new one);
    // after a parallel group they would miss the siblings that finished in the meantime.
    const claimFor = onlyId !== undefined ? input.claimNextFor : undefined;
    const created = await createGroupStages(tx, run, workflow, nextGroup, undefined, claimFor);
    effects.enqueue.push(...created.jobs);
    claimed = created.claimed;
  } else if (allDone) {
    action = "completed";
    const combined = storedGroupOutput(workflow, group, byId ?? new Map(groupRecords.map((s) => [s.stageId, s])));
    const output = await storeValue(deps, () => blobKeys.runOutput(run.id), combined);
    const duration = run.startedAt ? now.getTime() - run.startedAt.getTime() : 0;
    Object.assign(patch, { status: "COMPLETED", output, completedAt: now, duration } satisfies UpdateRunInput);
    events.push({
      type: "workflow:completed",
      workflowId: run.workflowId,
      output,
      duration,
      totalCost: run.totalCost + (input.addCost ?? 0),
      totalTokens: run.totalTokens + (input.addTokens ?? 0),
    });
  } else if (active.length > 0 && active.every((s) => s.status === "SUSPENDED") && run.status === "RUNNING") {
    action = "suspended";
    patch.status = "SUSPENDED";
    events.push({ type: "workflow:suspended", workflowId: run.workflowId, stageIds: active.map((s) => s.stageId) });
  } else if (run.status === "SUSPENDED" && active.some((s) => s.status !== "SUSPENDED")) {
    action = "resumed";
    patch.status = "RUNNING";
    events.push({ type: "workflow:resumed", workflowId: run.workflowId });
  }

  if (claimed) events.push({ type: "stage:started", stageId: claimed.stageId, stageName: claimed.stageName, attempt: claimed.attempt });
  await tx.updateRun(run.id, patch);
  await recordEvents(tx, deps, run.id, events, input.causationId);
  return { action, effects, nextGroup, claimed };
}
