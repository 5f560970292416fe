import { isRetryable, resolveRetryPolicy, retryDelayMs } from "../../core/retry.js";
import type { StageLike } from "../../core/stage.js";
import type { SuspendedState } from "../../core/types.js";
import type { Workflow } from "../../core/workflow.js";
import type { KernelDeps } from "../deps.js";
import type { Persistence } from "../ports.js";
import type { KernelEventInput } from "../events.js";
import type { UpdateStageInput, WorkflowRunRecord, WorkflowStageRecord } from "../records.js";
import { usageToAdd, type AIUsage } from "./ai-usage.js";
import { settleRun, type SettleResult } from "./settle-run.js";
import { jobFor, type ClaimFor } from "./workflow-plan.js";

/** Identifies the stage version a commit was decided on; the write only holds if it is unchanged. */
export interface StageFence {
  expectedStatus: "RUNNING" | "SUSPENDED";
  expectedAttempt: number;
}

interface OutcomeBase {
  run: WorkflowRunRecord;
  stage: WorkflowStageRecord;
  workflow: Workflow;
  stageDef: StageLike;
  fence: StageFence;
  usage: AIUsage;
  causationId: string;
  /** Time figures measured by the caller. */
  startedAtMs: number;
}

function usageMetrics(usage: AIUsage): Record<string, number> {
  return { totalCost: usage.stageCost, totalTokens: usage.stageTokens };
}

const releaseLease: UpdateStageInput = { leaseOwner: null, leaseExpiresAt: null };

/**
 * Settles the run after the stage change described by `event`, adding the usage the run still
 * lacks. `changed` is the stage record as this transaction just wrote it.
 */
export function settleAfter(
  tx: Persistence,
  deps: KernelDeps,
  input: Pick<OutcomeBase, "run" | "workflow" | "causationId" | "usage">,
  event: KernelEventInput,
  changed?: WorkflowStageRecord,
  claimNextFor?: ClaimFor,
): Promise<SettleResult> {
  const { addCost, addTokens } = usageToAdd(input.run, input.usage);
  return settleRun(tx, deps, {
    run: input.run,
    workflow: input.workflow,
    causationId: input.causationId,
    addCost,
    addTokens,
    events: [event],
    changed,
    claimNextFor,
  });
}

export async function completeStage(
  tx: Persistence,
  deps: KernelDeps,
  input: OutcomeBase & { storedOutput: unknown; customMetrics?: Record<string, number>; claimNextFor?: ClaimFor },
): Promise<SettleResult & { changed: WorkflowStageRecord }> {
  const now = deps.clock.now().getTime();
  const duration = now - input.startedAtMs;
  const metrics: Record<string, number> = { startTime: input.startedAtMs, endTime: now, duration };
  if (input.customMetrics) Object.assign(metrics, input.customMetrics);
  metrics.totalCost = input.usage.stageCost;
  metrics.totalTokens = input.usage.stageTokens;
  const changed = await tx.updateStage(input.run.id, input.stage.stageId, {
    expectedStatus: input.fence.expectedStatus,
    expectedAttempt: input.fence.expectedAttempt,
    leaseOwner: null,
    leaseExpiresAt: null,
    status: "COMPLETED",
    outputData: input.storedOutput,
    completedAt: new Date(now),
    duration,
    nextPollAt: null,
    errorMessage: null,
    metrics,
  });
  const settled = await settleAfter(
    tx,
    deps,
    input,
    {
      type: "stage:completed",
      stageId: input.stage.stageId,
      stageName: input.stage.stageName,
      duration,
      attempt: input.stage.attempt,
      cost: input.usage.stageCost,
      tokens: input.usage.stageTokens,
    },
    changed,
    input.claimNextFor,
  );
  return Object.assign(settled, { changed });
}

/**
 * Fails the attempt. If the error is retryable and attempts remain, the stage goes back to
 * PENDING with a backoff and the run carries on; otherwise the stage and the run fail at once.
 */
export async function failStage(
  tx: Persistence,
  deps: KernelDeps,
  input: OutcomeBase & { error: unknown; forceFinal?: boolean },
): Promise<SettleResult & { retryAt?: Date }> {
  const policy = resolveRetryPolicy(input.stageDef.retry);
  const message = input.error instanceof Error ? input.error.message : String(input.error);
  const willRetry = !input.forceFinal && input.stage.attempt < policy.maxAttempts && isRetryable(input.error, policy);
  const now = deps.clock.now();
  const retryAt = willRetry ? new Date(now.getTime() + retryDelayMs(policy, input.stage.attempt, deps.random)) : undefined;
  const changed = await tx.updateStage(input.run.id, input.stage.stageId, {
    ...input.fence,
    ...releaseLease,
    status: willRetry ? "PENDING" : "FAILED",
    retryAt: retryAt ?? null,
    errorMessage: message,
    nextPollAt: null,
    completedAt: willRetry ? null : now,
    metrics: { ...(input.stage.metrics ?? {}), ...usageMetrics(input.usage) },
  });
  const settled = await settleAfter(
    tx,
    deps,
    input,
    {
      type: "stage:failed",
      stageId: input.stage.stageId,
      stageName: input.stage.stageName,
      error: message,
      attempt: input.stage.attempt,
      willRetry,
      retryAt: retryAt?.toISOString(),
    },
    changed,
  );
  if (retryAt) settled.effects.enqueue.push(jobFor(input.run, input.stage, retryAt));
  return { ...settled, retryAt };
}

export async function suspendStage(
  tx: Persistence,
  deps: KernelDeps,
  input: OutcomeBase & { state: SuspendedState; pollInterval: number; maxWaitTime: number; nextPollAt?: Date },
): Promise<SettleResult & { nextPollAt: Date }> {
  const now = deps.clock.now();
  const nextPollAt = input.nextPollAt ?? new Date(now.getTime() + input.pollInterval);
  // A re-suspension after resume keeps the original deadline.
  const maxWaitUntil = input.stage.maxWaitUntil ?? new Date(now.getTime() + input.maxWaitTime);
  const changed = await tx.updateStage(input.run.id, input.stage.stageId, {
    ...input.fence,
    ...releaseLease,
    status: "SUSPENDED",
    suspendedState: input.state,
    resumeData: null,
    nextPollAt,
    pollInterval: input.pollInterval,
    maxWaitUntil,
    metrics: { ...(input.stage.metrics ?? {}), ...usageMetrics(input.usage) },
  });
  const settled = await settleAfter(
    tx,
    deps,
    input,
    {
      type: "stage:suspended",
      stageId: input.stage.stageId,
      stageName: input.stage.stageName,
      nextPollAt: nextPollAt.toISOString(),
      maxWaitUntil: maxWaitUntil.toISOString(),
    },
    changed,
  );
  settled.effects.schedule.push({
    commandType: "stage.pollSuspended",
    payload: { workflowRunId: input.run.id, stageId: input.stage.stageId },
    runAt: nextPollAt,
  });
  return { ...settled, nextPollAt };
}

/** A run whose stages may still change (commits to a run in any other status are ghosts). */
export function isRunActive(run: WorkflowRunRecord | null): run is WorkflowRunRecord & { status: "RUNNING" | "SUSPENDED" } {
  return run !== null && (run.status === "RUNNING" || run.status === "SUSPENDED");
}
