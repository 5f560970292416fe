import type { StageLike } from "../../core/stage.js";
import type { Workflow } from "../../core/workflow.js";
import type { KernelDeps } from "../deps.js";
import { ValidationError, type ValidationIssue } from "../errors.js";
import type { WorkflowRunRecord, WorkflowStageRecord } from "../records.js";
import { copyJsonValue, needsResolving, resolveValue } from "./stored-values.js";
import { storedGroupOutput } from "./workflow-plan.js";

export function zodIssues(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string; code?: string }> }): ValidationIssue[] {
  return error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === "number" ? p : String(p))),
    message: i.message,
    code: i.code,
  }));
}

/** What a stage reads of an earlier stage's record. */
export type EarlierOutput = Pick<WorkflowStageRecord, "stageId" | "status" | "executionGroup" | "outputData">;

/**
 * Everything a stage reads: its input (the previous group's output, or the run input), its
 * parsed config and the earlier outputs. One query for the stage records gives every inline
 * output. Outputs moved to the BlobStore cost a read each, so they are loaded only for the
 * stage's input and its declared `dependencies`: a chain of large outputs costs linear, not
 * quadratic, reads. A stage that declares no dependencies gets every output (the reference
 * engine's behaviour). `copyOutputs`: the records are shared with the kernel (handed over from
 * the previous stage's commit), so the stage gets copies of their outputs.
 */
export async function loadStageInputs(
  deps: KernelDeps,
  run: WorkflowRunRecord,
  workflow: Workflow,
  stageDef: StageLike,
  stages: ReadonlyArray<EarlierOutput>,
  copyOutputs = false,
): Promise<{ stageInput: unknown; config: unknown; workflowContext: Record<string, unknown>; unloadedOutputs: string[] }> {
  const byId = new Map(stages.map((s) => [s.stageId, s]));
  const group = workflow.getExecutionGroupIndex(stageDef.id);
  const workflowContext: Record<string, unknown> = {};
  const unloadedOutputs: string[] = [];
  const fromBlobs: Promise<void>[] = [];
  const loadsEverything = stageDef.dependencies.length === 0;
  for (const s of stages) {
    if (s.status !== "COMPLETED" || s.executionGroup >= group) continue;
    // Inline outputs (the usual case) need no await; only BlobStore reads run, in parallel.
    if (needsResolving(s.outputData)) {
      if (!loadsEverything && s.executionGroup !== group - 1 && !stageDef.dependencies.includes(s.stageId)) {
        unloadedOutputs.push(s.stageId);
        continue;
      }
      workflowContext[s.stageId] = undefined;
      fromBlobs.push(resolveValue(deps, s.outputData).then((value) => void (workflowContext[s.stageId] = value)));
    } else {
      workflowContext[s.stageId] = copyOutputs ? copyJsonValue(s.outputData) : s.outputData;
    }
  }
  if (fromBlobs.length) await Promise.all(fromBlobs);
  let rawInput: unknown;
  if (group === 0) {
    rawInput = needsResolving(run.input) ? await resolveValue(deps, run.input) : run.input;
  } else {
    const previous = workflow.getStagesInExecutionGroup(group - 1);
    rawInput =
      previous.length === 1
        ? workflowContext[previous[0]!.id]
        : Object.fromEntries(previous.map((s) => [s.id, workflowContext[s.id]]));
    if (rawInput === undefined) rawInput = await resolveValue(deps, storedGroupOutput(workflow, group - 1, byId));
  }
  const parsedInput = stageDef.inputSchema.safeParse(rawInput);
  if (!parsedInput.success) throw new ValidationError(`input of stage "${stageDef.id}"`, zodIssues(parsedInput.error));
  const parsedConfig = stageDef.configSchema.safeParse(run.config[stageDef.id] ?? {});
  if (!parsedConfig.success) throw new ValidationError(`config.${stageDef.id}`, zodIssues(parsedConfig.error));
  return { stageInput: parsedInput.data, config: parsedConfig.data, workflowContext, unloadedOutputs };
}
