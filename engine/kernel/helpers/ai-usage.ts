import { stageTopic } from "../../core/ai-call-logger.js";
import type { KernelDeps } from "../deps.js";
import type { WorkflowRunRecord } from "../records.js";

/** Model usage recorded so far for a stage and for its whole run. */
export interface AIUsage {
  stageCost: number;
  stageTokens: number;
  runCost: number;
  runTokens: number;
}

export const NO_AI_USAGE: AIUsage = { stageCost: 0, stageTokens: 0, runCost: 0, runTokens: 0 };

/** Reads the recorded usage before a commit (outside the transaction). */
export function measureAIUsage(deps: KernelDeps, workflowRunId: string, stageId: string): Promise<AIUsage> {
  if (!deps.aiCallLogger) return NO_AI_USAGE_PROMISE;
  return Promise.all([
    deps.aiCallLogger.getStats(stageTopic(workflowRunId, stageId)),
    deps.aiCallLogger.getStats(`workflow.${workflowRunId}.`),
  ]).then(([stage, run]) => ({ stageCost: stage.totalCost, stageTokens: stage.totalTokens, runCost: run.totalCost, runTokens: run.totalTokens }));
}

const NO_AI_USAGE_PROMISE = Promise.resolve(NO_AI_USAGE);

/**
 * What the run's totals still lack, computed against the run as read inside the commit. The run
 * totals thus always equal the sum of the logged calls, however many retries, parallel stages,
 * suspensions or reruns happened: a second commit that saw the same calls adds nothing.
 */
export function usageToAdd(run: WorkflowRunRecord, usage: AIUsage): { addCost: number; addTokens: number } {
  return {
    addCost: Math.max(0, usage.runCost - run.totalCost),
    addTokens: Math.max(0, usage.runTokens - run.totalTokens),
  };
}
