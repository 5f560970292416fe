import { TERMINAL_STATUSES } from "../../core/types.js";
import type { RunCancelCommand, RunCancelResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import { RunNotFoundError } from "../errors.js";
import { applyEffects, noEffects } from "../helpers/effects.js";
import { retryOnConflict } from "../helpers/conflict-retry.js";
import { recordEvents } from "../helpers/outbox.js";

/**
 * `run.cancel` is authoritative: the run and every non-terminal stage become CANCELLED (wake-ups
 * cleared) in one transaction, then queued jobs are cancelled. A stage still executing finds its
 * lease gone at its next heartbeat (its signal aborts) and its commit is refused as a ghost.
 */
export async function handleRunCancel(deps: KernelDeps, command: RunCancelCommand): Promise<RunCancelResult> {
  const cancelled = await retryOnConflict(() =>
    deps.persistence.withTransaction(async (tx) => {
      const run = await tx.getRun(command.workflowRunId);
      if (!run) throw new RunNotFoundError(command.workflowRunId);
      if (TERMINAL_STATUSES.has(run.status)) return false;
      const now = deps.clock.now();
      await tx.updateRun(run.id, {
        expectedVersion: run.version,
        status: "CANCELLED",
        completedAt: now,
        duration: run.startedAt ? now.getTime() - run.startedAt.getTime() : null,
        errorMessage: command.reason ?? null,
      });
      for (const stage of await tx.getStagesByRun(run.id)) {
        if (TERMINAL_STATUSES.has(stage.status)) continue;
        await tx.updateStage(run.id, stage.stageId, {
          status: "CANCELLED",
          nextPollAt: null,
          retryAt: null,
          leaseOwner: null,
          leaseExpiresAt: null,
          completedAt: now,
        });
      }
      await recordEvents(tx, deps, run.id, [{ type: "workflow:cancelled", workflowId: run.workflowId, reason: command.reason }], `run.cancel:${run.id}`);
      return true;
    }),
  );
  if (cancelled) {
    const effects = noEffects();
    effects.cancelJobsOfRuns.push(command.workflowRunId);
    await applyEffects(deps, effects);
    await deps.scheduler.cancel("stage.pollSuspended", command.workflowRunId).catch(() => undefined);
  }
  return { cancelled };
}
