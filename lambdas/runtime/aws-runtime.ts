/** The runtime on AWS: clients and names from the environment the WorkflowEngine construct sets. */
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { ENV_VARS, EVENT_DEFINITION } from "../../engine/aws/index.js";
import type { EmitBatchResult, EventSink, PublishedEvent, Scheduler, WorkflowRegistry } from "../../engine/kernel/ports.js";
import { createAwsClients, createEngineRuntime, requireEnv, resourceNamesFromEnv, type EngineRuntime } from "./engine-runtime.js";
import type { Observability } from "./observability.js";

let cached: EngineRuntime | undefined;

/** Built on first use and kept for the container's lifetime (clients reuse their connections). */
export function awsRuntime(registry: WorkflowRegistry, observability: Observability, env: NodeJS.ProcessEnv = process.env): EngineRuntime {
  if (cached) return cached;
  const clients = createAwsClients(env);
  for (const client of Object.values(clients)) observability.tracer.captureAWSv3Client(client);
  const eventBridge = observability.tracer.captureAWSv3Client(new EventBridgeClient({}));
  cached = createEngineRuntime({
    registry,
    ...clients,
    ...resourceNamesFromEnv(env),
    eventSink: eventBridgeSink(eventBridge, requireEnv(ENV_VARS.eventBusName, env)),
    // Suspended stages are woken by the maintenance tick's poll (every minute).
    scheduler: noWakeUps,
  });
  return cached;
}

const noWakeUps: Scheduler = {
  async schedule() {},
  async cancel() {},
};

/**
 * Puts events on the bus, `detail-type` = event type, in batches of 10 (PutEvents' limit), and
 * reports the ones EventBridge refused so the caller retries only those.
 */
export function eventBridgeSink(client: EventBridgeClient, eventBusName: string): EventSink {
  const entry = (event: PublishedEvent) => ({
    EventBusName: eventBusName,
    Source: EVENT_DEFINITION.source,
    DetailType: event.type,
    Detail: JSON.stringify(event),
    Time: new Date(event.timestamp),
  });
  const sink: Required<EventSink> = {
    async emit(event) {
      const { failed } = await sink.emitBatch([event]);
      if (failed.length) throw new Error(`EventBridge refused event ${event.eventId}: ${failed[0].error}`);
    },
    async emitBatch(events): Promise<EmitBatchResult> {
      const failed: EmitBatchResult["failed"] = [];
      for (let start = 0; start < events.length; start += 10) {
        const chunk = events.slice(start, start + 10);
        const result = await client.send(new PutEventsCommand({ Entries: chunk.map(entry) }));
        result.Entries?.forEach((e, i) => {
          if (e.ErrorCode) failed.push({ index: start + i, error: `${e.ErrorCode}: ${e.ErrorMessage ?? ""}` });
        });
      }
      return { failed };
    },
  };
  return sink;
}
