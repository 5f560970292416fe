import type { SQSRecord } from "aws-lambda";
import { createServerlessHost } from "../../engine/hosts/serverless/index.js";
import type { EngineRuntime } from "../runtime/engine-runtime.js";
import { METRIC, MetricUnit, type Observability } from "../runtime/observability.js";

/**
 * Executes the job one SQS record carries. Returning means "done, delete the message"; throwing
 * means "deliver it again" (the batch processor reports it as a failed item, and after
 * maxReceiveCount receives the redrive policy moves it to the dead-letter queue).
 */
export async function processJobRecord(record: SQSRecord, runtime: EngineRuntime, observability: Observability, workerId: string): Promise<void> {
  const { logger, metrics } = observability;
  // Registers the receipt handle, so lease heartbeats extend this message's visibility.
  const job = runtime.jobTransport.fromSqsRecord(record);
  const log = logger.createChild({ persistentKeys: { workflowRunId: job.workflowRunId, stageId: job.stageId, jobId: job.jobId } });
  const host = createServerlessHost({ kernel: runtime.kernel, jobTransport: runtime.jobTransport, workerId });
  const started = Date.now();
  const result = await host.handleJob(job);

  if (result.ghost) {
    // The run was cancelled or another worker owns the stage now: drop the job, never retry it.
    metrics.addMetric(METRIC.ghostJobsDropped, MetricUnit.Count, 1);
    log.info("Dropped a ghost job", { outcome: result.outcome });
    return;
  }
  switch (result.outcome) {
    case "completed": {
      metrics.addMetric(METRIC.stagesCompleted, MetricUnit.Count, 1);
      // The committed stage holds the kernel's own figures: execution time and the AI cost rolled up from its calls.
      const stage = await runtime.persistence.getStage(job.workflowRunId, job.stageId);
      metrics.addMetric(METRIC.stageDuration, MetricUnit.Milliseconds, stage?.duration ?? Date.now() - started);
      const cost = stage?.metrics?.totalCost ?? 0;
      if (cost > 0) metrics.addMetric(METRIC.aiCost, MetricUnit.NoUnit, cost); // USD
      break;
    }
    case "failed":
      metrics.addMetric(METRIC.stagesFailed, MetricUnit.Count, 1);
      log.warn("Stage failed", { error: result.error });
      break;
    case "suspended":
      metrics.addMetric(METRIC.stagesSuspended, MetricUnit.Count, 1);
      break;
    case "deferred":
      // Delivered before it was due (retry backoff): hand it back as a fresh message due then.
      if (result.nextPollAt) await runtime.jobTransport.suspend(job.jobId, result.nextPollAt);
      break;
    default:
      break;
  }
  log.info("Job handled", { outcome: result.outcome, durationMs: Date.now() - started });
}
