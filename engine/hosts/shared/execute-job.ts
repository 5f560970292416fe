import type { JobExecuteResult } from "../../kernel/commands.js";
import type { Kernel } from "../../kernel/kernel.js";
import type { DequeueResult, JobTransport } from "../../kernel/ports.js";

/** A job as a host receives it: from `dequeue()` or from a queue message body. */
export type JobMessage = Pick<DequeueResult, "workflowRunId" | "workflowId" | "stageId"> & { jobId?: string };

export function dispatchJob(kernel: Kernel, job: JobMessage, workerId: string, returnNextJob = false): Promise<JobExecuteResult> {
  return kernel.dispatch({
    type: "job.execute",
    workflowRunId: job.workflowRunId,
    workflowId: job.workflowId,
    stageId: job.stageId,
    workerId,
    jobId: job.jobId,
    returnNextJob,
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
  returnNextJob = false,
): Promise<{ result?: JobExecuteResult; error?: unknown }> {
  try {
    const result = await dispatchJob(kernel, job, workerId, returnNextJob);
    if (result.outcome === "deferred" && result.nextPollAt) await transport.suspend(job.jobId, result.nextPollAt);
    else await transport.complete(job.jobId);
    return { result };
  } catch (error) {
    await transport.fail(job.jobId, error instanceof Error ? error.message : String(error), true).catch(() => undefined);
    return { error };
  }
}
