import type { RunRerunFromCommand, RunRerunFromResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import { InvalidStateError, RunNotFoundError, StageNotFoundError } from "../errors.js";
import { retryOnConflict } from "../helpers/conflict-retry.js";
import { applyEffects, noEffects } from "../helpers/effects.js";
import { recordEvents } from "../helpers/outbox.js";
import { blobKeys } from "../helpers/stored-values.js";
import { createGroupStages, getWorkflowOrThrow } from "../helpers/workflow-plan.js";

const RERUNNABLE = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/**
 * `run.rerunFrom`: resets the chosen stage and every later one (their records are replaced),
 * restarts the run at that stage's group, and removes the reset stages' outputs and artifacts
 * after the commit. Attempt numbers continue from the old records so fencing tokens and job
 * ids never repeat.
 */
export async function handleRunRerunFrom(deps: KernelDeps, command: RunRerunFromCommand): Promise<RunRerunFromResult> {
  const { deletedStages, effects } = await retryOnConflict(() =>
    deps.persistence.withTransaction(async (tx) => {
      const run = await tx.getRun(command.workflowRunId);
      if (!run) throw new RunNotFoundError(command.workflowRunId);
      const workflow = getWorkflowOrThrow(deps, run.workflowId);
      const fromGroup = workflow.getExecutionGroupIndex(command.fromStageId);
      if (fromGroup < 0) throw new StageNotFoundError(workflow.id, command.fromStageId, workflow.stageIds);
      if (!RERUNNABLE.has(run.status)) {
        throw new InvalidStateError(`Run ${run.id} is ${run.status}; only COMPLETED, FAILED or CANCELLED runs can be rerun`, run.status);
      }
      const stages = await tx.getStagesByRun(run.id);
      for (let group = 0; group < fromGroup; group++) {
        for (const stage of workflow.getStagesInExecutionGroup(group)) {
          const record = stages.find((s) => s.stageId === stage.id);
          if (record?.status !== "COMPLETED") {
            throw new InvalidStateError(`Cannot rerun from ${command.fromStageId}: earlier stage ${stage.id} has no completed output`, run.status);
          }
        }
      }
      const reset = stages.filter((s) => s.executionGroup >= fromGroup);
      const attemptBase = new Map(reset.map((s) => [s.stageId, s.attempt]));
      for (const stage of reset) await tx.deleteStage(run.id, stage.stageId);
      const now = deps.clock.now();
      const restarted = await tx.updateRun(run.id, {
        expectedVersion: run.version,
        status: "RUNNING",
        currentGroup: fromGroup,
        output: null,
        completedAt: null,
        duration: null,
        errorMessage: null,
        startedAt: now,
      });
      const effects = noEffects();
      effects.enqueue.push(...(await createGroupStages(tx, restarted, workflow, fromGroup, attemptBase)).jobs);
      effects.deleteBlobPrefixes.push(...reset.map((s) => blobKeys.stagePrefix(run.id, s.stageId)), blobKeys.runOutput(run.id));
      await recordEvents(
        tx,
        deps,
        run.id,
        [
          { type: "workflow:rerun", workflowId: run.workflowId, fromStageId: command.fromStageId, resetStageIds: reset.map((s) => s.stageId) },
          { type: "workflow:started", workflowId: run.workflowId },
        ],
        `run.rerunFrom:${run.id}:${run.version}`,
      );
      return { deletedStages: reset.map((s) => s.stageId), effects };
    }),
  );
  // Blobs go only after the commit: a failed rerun must not lose the outputs it would have reset.
  await applyEffects(deps, { ...effects, enqueue: [] });
  await applyEffects(deps, { ...noEffects(), enqueue: effects.enqueue });
  return { workflowRunId: command.workflowRunId, fromStageId: command.fromStageId, deletedStages };
}
