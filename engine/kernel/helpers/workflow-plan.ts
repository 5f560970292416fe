import type { StageLike } from "../../core/stage.js";
import type { Workflow } from "../../core/workflow.js";
import type { KernelDeps } from "../deps.js";
import { WorkflowNotFoundError } from "../errors.js";
import type { EnqueueJobInput, Persistence } from "../ports.js";
import type { WorkflowRunRecord, WorkflowStageRecord } from "../records.js";

export function getWorkflowOrThrow(deps: KernelDeps, workflowId: string): Workflow {
  const workflow = deps.registry.getWorkflow(workflowId) as Workflow | undefined;
  if (!workflow) {
    const known = deps.registry.listWorkflows?.().map((w) => w.id) ?? [];
    throw new WorkflowNotFoundError(workflowId, known);
  }
  return workflow;
}

export function jobFor(run: WorkflowRunRecord, stage: Pick<WorkflowStageRecord, "stageId" | "attempt">, scheduledFor?: Date): EnqueueJobInput {
  return {
    workflowRunId: run.id,
    workflowId: run.workflowId,
    stageId: stage.stageId,
    attempt: stage.attempt + 1,
    priority: run.priority,
    scheduledFor,
  };
}

/** Who a created stage is claimed for: its first attempt starts RUNNING under this lease. */
export interface ClaimFor {
  workerId: string;
  now: Date;
  leaseExpiresAt: Date;
}

export interface CreatedGroup {
  /** Jobs to enqueue after commit (none for a stage created claimed). */
  jobs: EnqueueJobInput[];
  /** The group's one stage, created RUNNING for `claimFor`. */
  claimed?: WorkflowStageRecord;
}

/**
 * Creates the stage records of an execution group (PENDING) inside the caller's transaction and
 * returns the jobs to enqueue after commit. `attemptBase` keeps fencing tokens (and job
 * de-duplication ids) increasing across reruns. With `claimFor`, a group of one stage is created
 * already claimed (RUNNING, first attempt, leased) instead of queued.
 */
export async function createGroupStages(
  tx: Persistence,
  run: WorkflowRunRecord,
  workflow: Workflow,
  group: number,
  attemptBase: ReadonlyMap<string, number> = new Map(),
  claimFor?: ClaimFor,
): Promise<CreatedGroup> {
  const planned = workflow.getStagesInExecutionGroup(group);
  const claim = planned.length === 1 ? claimFor : undefined;
  const jobs: EnqueueJobInput[] = [];
  let claimed: WorkflowStageRecord | undefined;
  for (const stage of planned) {
    const base = attemptBase.get(stage.id) ?? 0;
    const record = await tx.createStage({
      workflowRunId: run.id,
      stageId: stage.id,
      stageName: stage.name,
      stageNumber: workflow.getStageNumber(stage.id),
      executionGroup: group,
      status: claim ? "RUNNING" : "PENDING",
      config: run.config[stage.id] ?? {},
      attempt: claim ? base + 1 : base,
      ...(claim && { leaseOwner: claim.workerId, leaseExpiresAt: claim.leaseExpiresAt, startedAt: claim.now }),
    });
    if (claim) claimed = record;
    else jobs.push(jobFor(run, record));
  }
  return { jobs, claimed };
}

/** The output of a group as stored: one stage's stored value, or a map by stage id for a parallel group. */
export function storedGroupOutput(
  workflow: Workflow,
  group: number,
  stagesById: ReadonlyMap<string, Pick<WorkflowStageRecord, "outputData">>,
): unknown {
  const stages: ReadonlyArray<StageLike> = workflow.getStagesInExecutionGroup(group);
  if (stages.length === 1) return stagesById.get(stages[0]!.id)?.outputData ?? null;
  return Object.fromEntries(stages.map((s) => [s.id, stagesById.get(s.id)?.outputData ?? null]));
}
