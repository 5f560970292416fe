import type { RunClaimPendingCommand, RunClaimPendingResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import { PersistenceConflictError } from "../errors.js";
import { applyEffects, noEffects } from "../helpers/effects.js";
import { recordEvents } from "../helpers/outbox.js";
import type { Workflow } from "../../core/workflow.js";
import { createGroupStages } from "../helpers/workflow-plan.js";

/**
 * `run.claimPending`: starts runs left PENDING (highest priority, then oldest). `run.create`
 * starts runs itself, so this only finds runs written PENDING by other means or older adapters.
 */
export async function handleRunClaimPending(deps: KernelDeps, command: RunClaimPendingCommand): Promise<RunClaimPendingResult> {
  const pending = await deps.persistence.getRunsByStatus("PENDING", { limit: command.maxClaims ?? 10 });
  const claimed: { workflowRunId: string; workflowId: string; jobIds: string[] }[] = [];
  for (const candidate of pending) {
    // A run of a workflow this host does not serve is left for a host that does.
    const workflow = deps.registry.getWorkflow(candidate.workflowId) as Workflow | undefined;
    if (!workflow) continue;
    try {
      const jobs = await deps.persistence.withTransaction(async (tx) => {
        const run = await tx.updateRun(candidate.id, {
          expectedStatus: "PENDING",
          expectedVersion: candidate.version,
          status: "RUNNING",
          startedAt: deps.clock.now(),
          currentGroup: 0,
        });
        const { jobs: firstJobs } = await createGroupStages(tx, run, workflow, 0);
        await recordEvents(tx, deps, run.id, [{ type: "workflow:started", workflowId: run.workflowId }], `run.claimPending:${command.workerId}`);
        return firstJobs;
      });
      const jobIds = await applyEffects(deps, { ...noEffects(), enqueue: jobs });
      claimed.push({ workflowRunId: candidate.id, workflowId: candidate.workflowId, jobIds });
    } catch (error) {
      // Another worker claimed it first.
      if (!(error instanceof PersistenceConflictError)) throw error;
    }
  }
  return { claimed };
}
