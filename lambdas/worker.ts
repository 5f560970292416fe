/**
 * Worker: the SQS event source delivers job messages; each runs one stage attempt. Partial batch
 * responses: a failing message is retried alone, the rest of its batch is done.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { WorkflowRegistry } from "../engine/kernel/ports.js";
import { processJobRecord } from "./jobs/process-job-record.js";
import { SERVICE_NAME } from "./metric-names.js";
import { awsRuntime } from "./runtime/aws-runtime.js";
import type { EngineRuntime } from "./runtime/engine-runtime.js";
import { createObservability, instrument } from "./runtime/observability.js";

export interface WorkerHandlerOptions {
  registry: WorkflowRegistry;
  /** @default the AWS runtime from the construct's environment variables */
  runtime?: EngineRuntime;
}

/** Creates the worker's Lambda handler for a workflow registry. */
export function createWorkerHandler(options: WorkerHandlerOptions) {
  const observability = createObservability(SERVICE_NAME.worker);
  const runtime = () => options.runtime ?? awsRuntime(options.registry, observability);
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    instrument(observability, context, () => {
      const processor = new BatchProcessor(EventType.SQS);
      // The invocation is the lease owner: a retried delivery of the same job is a new owner.
      const workerId = `lambda:${context.awsRequestId}`;
      return processPartialResponse(event, (record: SQSRecord) => processJobRecord(record, runtime(), observability, workerId), processor, {
        context,
        // One poison message alone is a partial failure like any other, not a failed invocation.
        throwOnFullBatchFailure: false,
      });
    });
}
