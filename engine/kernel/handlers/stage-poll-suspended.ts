import type { CompletionCheckResult, SuspendedState } from "../../core/types.js";
import type { Workflow } from "../../core/workflow.js";
import type { StagePollSuspendedCommand, StagePollSuspendedResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import { NonRetryableError } from "../../core/retry.js";
import { StageValidationError } from "../errors.js";
import type { WorkflowStageRecord } from "../records.js";
import { measureAIUsage, NO_AI_USAGE } from "../helpers/ai-usage.js";
import { retryOnConflict } from "../helpers/conflict-retry.js";
import { applyEffects, noEffects, type AfterCommit } from "../helpers/effects.js";
import { zodIssues } from "../helpers/load-stage-inputs.js";
import { buildCheckCompletionContext, createLogCollector } from "../helpers/stage-context.js";
import { completeStage, failStage, isRunActive, settleAfter } from "../helpers/stage-outcomes.js";
import { blobKeys, storeValue } from "../helpers/stored-values.js";
import { jobFor } from "../helpers/workflow-plan.js";

type PollOutcome = "resumed" | "failed" | "waiting" | "skipped";

/** Checks one suspended stage: `checkCompletion` runs outside any transaction, then a short commit. */
async function pollStage(deps: KernelDeps, candidate: WorkflowStageRecord): Promise<{ outcome: PollOutcome; runId: string }> {
  const runId = candidate.workflowRunId;
  const run = await deps.persistence.getRun(runId);
  if (!isRunActive(run)) return { outcome: "skipped", runId };
  const workflow = deps.registry.getWorkflow(run.workflowId) as Workflow | undefined;
  const stageDef = workflow?.getStage(candidate.stageId);
  if (!workflow || !stageDef?.checkCompletion) return { outcome: "skipped", runId };

  const logs = createLogCollector(runId, candidate.stageId);
  const config = stageDef.configSchema.safeParse(run.config[stageDef.id] ?? {});
  let check: CompletionCheckResult<unknown> | { thrown: unknown };
  try {
    check = await stageDef.checkCompletion(
      candidate.suspendedState as SuspendedState,
      buildCheckCompletionContext({ deps, workflowRunId: runId, stageId: candidate.stageId, config: config.success ? config.data : {}, log: logs.log }) as never,
    );
  } catch (thrown) {
    // A failing status check (provider down) is not a failed batch: look again later.
    check = { thrown };
    logs.log("WARN", "checkCompletion threw; will check again", { error: thrown instanceof Error ? thrown.message : String(thrown) });
  }
  if (logs.logs.length) await deps.persistence.createLogs(logs.logs).catch(() => undefined);

  let storedOutput: unknown;
  let finalError: Error | undefined;
  if ("ready" in check && check.ready && check.output !== undefined) {
    const parsed = stageDef.outputSchema.safeParse(check.output);
    if (parsed.success) storedOutput = await storeValue(deps, () => blobKeys.stageOutput(runId, candidate.stageId, candidate.attempt), parsed.data);
    else finalError = new StageValidationError(stageDef.id, zodIssues(parsed.error));
  } else if ("ready" in check && !check.ready && check.error) {
    finalError = new NonRetryableError(check.error);
  }
  // Decided once, so the usage read below and the commit agree on whether the stage settles.
  const pastDeadline = candidate.maxWaitUntil !== null && deps.clock.now().getTime() > candidate.maxWaitUntil.getTime();
  const settles = ("ready" in check && check.ready) || finalError !== undefined || pastDeadline;
  // A stage that is merely still waiting changes no totals: skip the usage queries.
  const usage = settles ? await measureAIUsage(deps, runId, candidate.stageId) : NO_AI_USAGE;

  const committed = await retryOnConflict(() =>
    deps.persistence.withTransaction(async (tx): Promise<{ outcome: PollOutcome; effects: AfterCommit }> => {
      const currentRun = await tx.getRun(runId);
      const stage = await tx.getStage(runId, candidate.stageId);
      if (!isRunActive(currentRun) || stage?.status !== "SUSPENDED" || stage.version !== candidate.version) {
        return { outcome: "skipped", effects: noEffects() };
      }
      const now = deps.clock.now();
      const fence = { expectedStatus: "SUSPENDED" as const, expectedAttempt: stage.attempt };
      const base = {
        run: currentRun,
        stage,
        workflow,
        stageDef,
        fence,
        usage,
        causationId: `stage.pollSuspended:${stage.id}:${stage.version}`,
        startedAtMs: stage.startedAt?.getTime() ?? now.getTime(),
      };
      if (storedOutput !== undefined && !finalError) {
        const settled = await completeStage(tx, deps, { ...base, storedOutput, customMetrics: "customMetrics" in check ? check.customMetrics : undefined });
        return { outcome: "resumed", effects: settled.effects };
      }
      if ("ready" in check && check.ready && !finalError) {
        // Ready, but the stage's execute() produces the output: run it again with resumeState.
        const resumeState = ("resumeState" in check && check.resumeState) || stage.suspendedState;
        await tx.updateStage(runId, stage.stageId, { ...fence, status: "PENDING", resumeData: resumeState, nextPollAt: null });
        const settled = await settleAfter(tx, deps, base, { type: "stage:resumed", stageId: stage.stageId });
        settled.effects.enqueue.push(jobFor(currentRun, stage));
        return { outcome: "resumed", effects: settled.effects };
      }
      if (finalError || pastDeadline) {
        const error =
          finalError ??
          new NonRetryableError(
            `Stage ${stage.stageId} exceeded its maxWaitTime: still not complete at ${now.toISOString()} (deadline ${stage.maxWaitUntil!.toISOString()})`,
          );
        const settled = await failStage(tx, deps, { ...base, error, forceFinal: true });
        return { outcome: "failed", effects: settled.effects };
      }
      const wait = ("nextCheckIn" in check && check.nextCheckIn) || stage.pollInterval || 60_000;
      const nextPollAt = new Date(Math.min(now.getTime() + wait, stage.maxWaitUntil?.getTime() ?? Infinity) + 1);
      await tx.updateStage(runId, stage.stageId, { ...fence, expectedVersion: stage.version, nextPollAt });
      const effects = noEffects();
      effects.schedule.push({ commandType: "stage.pollSuspended", payload: { workflowRunId: runId, stageId: stage.stageId }, runAt: nextPollAt });
      return { outcome: "waiting", effects };
    }),
  );
  await applyEffects(deps, committed.effects);
  return { outcome: committed.outcome, runId };
}

/** `stage.pollSuspended`: checks suspended stages that are due (or one named stage, for scheduled wake-ups). */
export async function handleStagePollSuspended(deps: KernelDeps, command: StagePollSuspendedCommand): Promise<StagePollSuspendedResult> {
  let due: WorkflowStageRecord[];
  if (command.workflowRunId && command.stageId) {
    const stage = await deps.persistence.getStage(command.workflowRunId, command.stageId);
    due = stage?.status === "SUSPENDED" ? [stage] : [];
  } else {
    due = await deps.persistence.getSuspendedStagesDue(deps.clock.now(), command.maxChecks ?? 50);
  }
  let resumed = 0;
  let failed = 0;
  const resumedWorkflowRunIds: string[] = [];
  for (const stage of due) {
    const { outcome, runId } = await pollStage(deps, stage);
    if (outcome === "resumed") {
      resumed++;
      if (!resumedWorkflowRunIds.includes(runId)) resumedWorkflowRunIds.push(runId);
    } else if (outcome === "failed") failed++;
  }
  return { checked: due.length, resumed, failed, resumedWorkflowRunIds };
}
