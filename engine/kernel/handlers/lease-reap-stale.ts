import type { LeaseReapStaleCommand, LeaseReapStaleResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import { retryOnConflict } from "../helpers/conflict-retry.js";
import { applyEffects, noEffects, type AfterCommit } from "../helpers/effects.js";
import { measureAIUsage } from "../helpers/ai-usage.js";
import { failStage, isRunActive } from "../helpers/stage-outcomes.js";
import type { Workflow } from "../../core/workflow.js";

/** The worker holding a stage's lease stopped heartbeating (crashed, or partitioned away). */
export class LeaseExpiredError extends Error {
  override name = "LeaseExpiredError";
}

/**
 * `lease.reapStale`: a RUNNING stage whose lease expired counts as a failed attempt: it is
 * retried (or failed once attempts are used up, so a stage that kills its worker every time
 * does not loop forever). The old worker's commit is then refused by the fencing token.
 */
export async function handleLeaseReapStale(deps: KernelDeps, command: LeaseReapStaleCommand): Promise<LeaseReapStaleResult> {
  const now = deps.clock.now();
  const expired = await deps.persistence.getStagesWithExpiredLease(now, 100);
  let released = 0;
  for (const candidate of expired) {
    const usage = await measureAIUsage(deps, candidate.workflowRunId, candidate.stageId);
    const effects = await retryOnConflict(() =>
      deps.persistence.withTransaction(async (tx): Promise<AfterCommit | null> => {
        const stage = await tx.getStage(candidate.workflowRunId, candidate.stageId);
        if (stage?.status !== "RUNNING" || stage.attempt !== candidate.attempt) return null;
        if ((stage.leaseExpiresAt?.getTime() ?? 0) > deps.clock.now().getTime()) return null;
        const run = await tx.getRun(stage.workflowRunId);
        const fence = { expectedStatus: "RUNNING" as const, expectedAttempt: stage.attempt };
        const workflow = run ? (deps.registry.getWorkflow(run.workflowId) as Workflow | undefined) : undefined;
        const stageDef = workflow?.getStage(stage.stageId);
        if (!isRunActive(run) || !workflow || !stageDef) {
          // Left behind by a run that ended while it executed.
          await tx.updateStage(stage.workflowRunId, stage.stageId, { ...fence, status: "CANCELLED", leaseOwner: null, leaseExpiresAt: null });
          return noEffects();
        }
        const error = new LeaseExpiredError(
          `Lease of attempt ${stage.attempt} expired at ${stage.leaseExpiresAt?.toISOString()} (worker ${stage.leaseOwner} stopped responding)`,
        );
        const settled = await failStage(tx, deps, {
          run,
          stage,
          workflow,
          stageDef,
          fence,
          usage,
          error,
          causationId: `lease.reapStale:${stage.id}:${stage.attempt}`,
          startedAtMs: stage.startedAt?.getTime() ?? now.getTime(),
        });
        return settled.effects;
      }),
    );
    if (effects) {
      released++;
      await applyEffects(deps, effects);
    }
  }
  released += await deps.jobTransport.releaseStaleJobs(command.staleThresholdMs);
  return { released };
}
