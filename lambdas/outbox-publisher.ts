/**
 * Outbox publisher: the table's stream announces new events; they go to EventBridge in per-run
 * order. Failed runs are reported as batch item failures so Lambda retries from there; after the
 * event source's retries, the failure queue gets the batch and maintenance's outbox.flush
 * publishes what is left.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import type { WorkflowRegistry } from "../engine/kernel/ports.js";
import { METRIC, SERVICE_NAME } from "./metric-names.js";
import { publishStreamRecords } from "./outbox/publish-stream-records.js";
import { awsRuntime } from "./runtime/aws-runtime.js";
import type { EngineRuntime } from "./runtime/engine-runtime.js";
import { createObservability, instrument, MetricUnit } from "./runtime/observability.js";

export interface OutboxPublisherHandlerOptions {
  registry: WorkflowRegistry;
  /** @default the AWS runtime from the construct's environment variables */
  runtime?: EngineRuntime;
}

/** Creates the outbox publisher's Lambda handler. */
export function createOutboxPublisherHandler(options: OutboxPublisherHandlerOptions) {
  const observability = createObservability(SERVICE_NAME.outboxPublisher);
  const { logger, metrics } = observability;
  return async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> =>
    instrument(observability, context, async () => {
      const runtime = options.runtime ?? awsRuntime(options.registry, observability);
      const outcome = await publishStreamRecords(event.Records, runtime.persistence, runtime.eventSink, () => new Date());
      metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, outcome.published);
      if (outcome.failedRuns.length) {
        metrics.addMetric(METRIC.eventsFailed, MetricUnit.Count, outcome.failedRuns.length);
        logger.warn("Some runs' events were not published; Lambda retries from the first of them", { failedRuns: outcome.failedRuns });
      }
      return outcome.response;
    });
}
