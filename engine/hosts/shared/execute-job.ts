import type { JobExecuteResult, StageClaim } from "../../kernel/commands.js";
import type { Kernel } from "../../kernel/kernel.js";
import type { DequeueResult, JobTransport } from "../../kernel/ports.js";

/** A job as a host receives it: from `dequeue()` or from a queue message body. */
export type JobMessage = Pick<DequeueResult, "workflowRunId" | "workflowId" | "stageId"> & { jobId?: string };

/** How a host runs a job: plain, or as a link of a chain (the next stage claimed in the commit). */
export interface DispatchOptions {
  /** Claim the next stage of a chain for this worker in the commit (`job.execute` `claimNextStage`). */
  claimNextStage?: boolean;
  /** The claim a previous commit handed over for this job. */
  claim?: StageClaim;
}

export function dispatchJob(kernel: Kernel, job: JobMessage, workerId: string, options: DispatchOptions = {}): Promise<JobExecuteResult> {
  return kernel.dispatch({
    type: "job.execute",
    workflowRunId: job.workflowRunId,
    workflowId: job.workflowId,
    stageId: job.stageId,
    workerId,
    jobId: job.jobId,
    claimNextStage: options.claimNextStage,
    claim: options.claim,
  });
}

/**
 * Executes a dequeued job and acknowledges it. The kernel enqueues retries itself, so every
 * settled outcome completes the job; only an infrastructure error (the kernel could not reach its
 * store) hands the job back for redelivery.
 */
export async function executeAndAcknowledge(
  kernel: Kernel,
  transport: JobTransport,
  job: DequeueResult,
  workerId: string,
  options: DispatchOptions = {},
): Promise<{ result?: JobExecuteResult; error?: unknown }> {
  try {
    const result = await dispatchJob(kernel, job, workerId, options);
    if (result.outcome === "deferred" && result.nextPollAt) await transport.suspend(job.jobId, result.nextPollAt);
    else await transport.complete(job.jobId);
    return { result };
  } catch (error) {
    await transport.fail(job.jobId, error instanceof Error ? error.message : String(error), true).catch(() => undefined);
    return { error };
  }
}
