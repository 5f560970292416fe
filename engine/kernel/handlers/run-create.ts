import { randomUUID } from "node:crypto";
import type { RunCreateCommand, RunCreateResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import { ValidationError } from "../errors.js";
import { applyEffects, noEffects } from "../helpers/effects.js";
import { zodIssues } from "../helpers/load-stage-inputs.js";
import { recordEvents } from "../helpers/outbox.js";
import { blobKeys, storeValue } from "../helpers/stored-values.js";
import { createGroupStages, getWorkflowOrThrow } from "../helpers/workflow-plan.js";
import type { Workflow } from "../../core/workflow.js";
import type { IdempotencyScope } from "./idempotency.js";

export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 10;

/** Parses every stage's config; unknown stage ids and schema failures name the field. */
export function parseRunConfig(workflow: Workflow, config: Record<string, unknown> | undefined): Record<string, unknown> {
  if (config !== undefined && (typeof config !== "object" || config === null || Array.isArray(config))) {
    throw new ValidationError("config", [{ path: [], message: "must be an object keyed by stage id" }]);
  }
  const parsed: Record<string, unknown> = {};
  for (const key of Object.keys(config ?? {})) {
    if (!workflow.getStage(key)) {
      throw new ValidationError("config", [{ path: [key], message: `unknown stage id (stages: ${workflow.stageIds.join(", ")})` }]);
    }
  }
  for (const stage of workflow.stages) {
    const result = stage.configSchema.safeParse(config?.[stage.id] ?? {});
    if (!result.success) throw new ValidationError(`config.${stage.id}`, zodIssues(result.error));
    parsed[stage.id] = result.data;
  }
  return parsed;
}

/**
 * `run.create`: validates input, config and priority (a clear error, nothing written), then in
 * one transaction writes the run, its first group's stages, its first events and the
 * idempotency result; the first jobs are enqueued right after the commit.
 */
export async function handleRunCreate(
  deps: KernelDeps,
  command: RunCreateCommand,
  idempotency: IdempotencyScope,
): Promise<RunCreateResult> {
  const workflow = getWorkflowOrThrow(deps, command.workflowId);
  const input = workflow.inputSchema.safeParse(command.input);
  if (!input.success) throw new ValidationError("input", zodIssues(input.error));
  const config = parseRunConfig(workflow, command.config);
  const priority = command.priority ?? 5;
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new ValidationError("priority", [{ path: [], message: `must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}` }]);
  }

  const workflowRunId = randomUUID();
  const storedInput = await storeValue(deps, () => blobKeys.runInput(workflowRunId), input.data);
  const now = deps.clock.now();
  const result: RunCreateResult = { workflowRunId, status: "RUNNING" };
  const jobs = await deps.persistence.withTransaction(async (tx) => {
    const run = await tx.createRun({
      id: workflowRunId,
      workflowId: workflow.id,
      workflowName: workflow.name,
      workflowType: workflow.type,
      status: "RUNNING",
      input: storedInput,
      config,
      priority,
      metadata: command.metadata ?? null,
      startedAt: now,
      currentGroup: 0,
    });
    const { jobs: firstJobs } = await createGroupStages(tx, run, workflow, 0);
    await recordEvents(
      tx,
      deps,
      run.id,
      [
        { type: "workflow:created", workflowId: workflow.id, priority },
        { type: "workflow:started", workflowId: workflow.id },
      ],
      `run.create:${command.idempotencyKey}`,
    );
    await idempotency.completeInTransaction(tx, result);
    return firstJobs;
  });
  await applyEffects(deps, { ...noEffects(), enqueue: jobs });
  return result;
}
