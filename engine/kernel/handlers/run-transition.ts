import type { RunTransitionCommand, RunTransitionResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import { RunNotFoundError } from "../errors.js";
import { applyEffects, mergeEffects, noEffects, type AfterCommit } from "../helpers/effects.js";
import { retryOnConflict } from "../helpers/conflict-retry.js";
import { recordEvents } from "../helpers/outbox.js";
import { settleRun } from "../helpers/settle-run.js";
import { isRunActive } from "../helpers/stage-outcomes.js";
import { jobFor } from "../helpers/workflow-plan.js";
import type { Workflow } from "../../core/workflow.js";

/**
 * Re-drives one run: whatever a crash between a commit and its follow-up lost (a job never
 * enqueued, a wake-up never scheduled, a group never advanced) is done again. Every step is
 * idempotent, so re-driving a healthy run changes nothing but its `updatedAt`. A run that nothing
 * can move (its workflow or current stages no longer exist) is failed with the reason.
 */
export async function redriveRun(deps: KernelDeps, workflowRunId: string): Promise<RunTransitionResult> {
  const { result, effects } = await retryOnConflict(() =>
    deps.persistence.withTransaction(async (tx): Promise<{ result: RunTransitionResult; effects: AfterCommit }> => {
      const effects = noEffects();
      const run = await tx.getRun(workflowRunId);
      if (!run) throw new RunNotFoundError(workflowRunId);
      if (!isRunActive(run)) return { result: { action: "noop" }, effects };
      const workflow = deps.registry.getWorkflow(run.workflowId) as Workflow | undefined;
      const planned = workflow?.getStagesInExecutionGroup(run.currentGroup) ?? [];
      if (!workflow || planned.length === 0) {
        const now = deps.clock.now();
        const error = workflow
          ? `Execution group ${run.currentGroup} no longer exists in workflow ${run.workflowId}`
          : `Workflow ${run.workflowId} is no longer registered`;
        await tx.updateRun(run.id, { expectedVersion: run.version, status: "FAILED", completedAt: now, errorMessage: error });
        await recordEvents(tx, deps, run.id, [{ type: "workflow:failed", workflowId: run.workflowId, error }], `run.transition:${run.id}`);
        effects.cancelJobsOfRuns.push(run.id);
        return { result: { action: "failed" }, effects };
      }
      const stages = new Map((await tx.getStagesByRun(run.id)).map((s) => [s.stageId, s]));
      const now = deps.clock.now();
      for (const stageDef of planned) {
        let stage = stages.get(stageDef.id);
        if (!stage) {
          stage = await tx.createStage({
            workflowRunId: run.id,
            stageId: stageDef.id,
            stageName: stageDef.name,
            stageNumber: workflow.getStageNumber(stageDef.id),
            executionGroup: run.currentGroup,
            status: "PENDING",
            config: run.config[stageDef.id] ?? {},
          });
          stages.set(stage.stageId, stage);
        }
        if (stage.status === "PENDING") {
          const later = stage.retryAt && stage.retryAt > now ? stage.retryAt : undefined;
          effects.enqueue.push({ ...jobFor(run, stage, later), redrive: true });
        } else if (stage.status === "SUSPENDED" && stage.nextPollAt) {
          effects.schedule.push({
            commandType: "stage.pollSuspended",
            payload: { workflowRunId: run.id, stageId: stage.stageId },
            runAt: stage.nextPollAt,
          });
        }
      }
      const settled = await settleRun(tx, deps, { run, workflow, events: [], causationId: `run.transition:${run.id}` });
      const action = settled.action === "noop" ? (effects.enqueue.length ? "redriven" : "noop") : settled.action;
      return {
        result: {
          action: action === "suspended" || action === "resumed" ? "noop" : action,
          nextGroup: settled.nextGroup,
        },
        // After an advance the settle's own jobs replace the re-enqueues of the finished group.
        effects: settled.action === "noop" ? mergeEffects(effects, settled.effects) : settled.effects,
      };
    }),
  );
  await applyEffects(deps, effects);
  return result;
}

/** `run.transition`: advance a run to its next group (or complete/fail it) if its current group is done; otherwise re-drive it. */
export function handleRunTransition(deps: KernelDeps, command: RunTransitionCommand): Promise<RunTransitionResult> {
  return redriveRun(deps, command.workflowRunId);
}
