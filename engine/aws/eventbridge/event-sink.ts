import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import type { EmitBatchResult, EventSink, PublishedEvent } from "../../kernel/ports.js";
import { EVENT_DEFINITION } from "../definitions.js";
import { AwsCredentialsError, isCredentialsError } from "../dynamo/errors.js";

/** PutEvents limits: 10 entries and 256 KB per request (the size of every entry counts). */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

export interface EventBridgeEventSinkOptions {
  client: EventBridgeClient;
  /** @default "default" */
  eventBusName?: string;
  /** @default "stageflow" */
  source?: string;
  /** Extra tries for entries that failed (throttling, internal errors), with backoff. @default 3 */
  maxRetries?: number;
  /** Base delay of the backoff between retries. @default 100 ms */
  retryBaseDelayMs?: number;
}

/** Size of an entry as EventBridge counts it: source, detail-type, detail, resources, time. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (s?: string) => (s ? Buffer.byteLength(s, "utf8") : 0);
  return 14 + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + bytes(entry.EventBusName) +
    (entry.Resources ?? []).reduce((sum, r) => sum + bytes(r), 0);
}

/** Splits entries into requests of at most 10 entries and 256 KB, keeping their order. */
export function batchEntries<T extends { entry: PutEventsRequestEntry }>(items: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const itemSize = entrySize(item.entry);
    if (current.length > 0 && (current.length === MAX_ENTRIES || size + itemSize > MAX_REQUEST_BYTES)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += itemSize;
  }
  if (current.length) batches.push(current);
  return batches;
}

/**
 * EventSink on EventBridge: one event per outbox record, `source` "stageflow" and `detail-type`
 * the event type (e.g. `stage:completed`), so rules can match either. `detail` is the event with
 * its stable `eventId` (`<runId>:<sequence>`) for consumer de-duplication.
 *
 * `emitBatch` sends at most 10 entries / 256 KB per PutEvents, retries only the entries that
 * failed, and reports the ones still failing, so `outbox.flush` marks nothing published that was
 * not. Once an event of a run failed, that run's later events in the batch are held back (reported
 * failed) so a run's events are never published out of order.
 *
 * @example
 * ```ts
 * const sink = createEventBridgeEventSink({ client: new EventBridgeClient({}), eventBusName: "stageflow" });
 * ```
 */
export function createEventBridgeEventSink(options: EventBridgeEventSinkOptions): EventSink & { emitBatch(events: PublishedEvent[]): Promise<EmitBatchResult> } {
  const source = options.source ?? EVENT_DEFINITION.source;
  const eventBusName = options.eventBusName ?? EVENT_DEFINITION.defaultBusName;
  const maxRetries = options.maxRetries ?? 3;
  const baseDelay = options.retryBaseDelayMs ?? 100;

  const toEntry = (event: PublishedEvent): PutEventsRequestEntry => ({
    Source: source,
    DetailType: event.type,
    Detail: JSON.stringify(event),
    EventBusName: eventBusName,
    Time: new Date(event.timestamp),
    Resources: [],
  });

  async function put(entries: PutEventsRequestEntry[]): Promise<(string | null)[]> {
    try {
      const result = await options.client.send(new PutEventsCommand({ Entries: entries }));
      return entries.map((_, i) => {
        const answer = result.Entries?.[i];
        return answer?.ErrorCode ? `${answer.ErrorCode}: ${answer.ErrorMessage ?? ""}` : answer ? null : "no result entry";
      });
    } catch (error) {
      if (isCredentialsError(error)) throw new AwsCredentialsError("EventBridge", error);
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return entries.map(() => message);
    }
  }

  async function emitBatch(events: PublishedEvent[]): Promise<EmitBatchResult> {
    const failed: { index: number; error: string }[] = [];
    const blockedRuns = new Set<string>();
    const items = events.map((event, index) => ({ event, index, entry: toEntry(event) }));
    for (const batch of batchEntries(items)) {
      let pending = batch.filter((item) => {
        if (blockedRuns.has(item.event.workflowRunId)) {
          failed.push({ index: item.index, error: "held back: an earlier event of this run failed" });
          return false;
        }
        if (entrySize(item.entry) > MAX_REQUEST_BYTES) {
          failed.push({ index: item.index, error: `event is ${entrySize(item.entry)} bytes, above EventBridge's 256 KB limit` });
          blockedRuns.add(item.event.workflowRunId);
          return false;
        }
        return true;
      });
      let errors: (string | null)[] = [];
      for (let attempt = 0; pending.length > 0 && attempt <= maxRetries; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, baseDelay * 2 ** (attempt - 1) * (0.5 + Math.random())));
        errors = await put(pending.map((item) => item.entry));
        pending = pending.filter((_, i) => errors[i] !== null);
        errors = errors.filter((e) => e !== null);
      }
      pending.forEach((item, i) => {
        failed.push({ index: item.index, error: errors[i] ?? "failed" });
        blockedRuns.add(item.event.workflowRunId);
      });
    }
    return { failed: failed.sort((a, b) => a.index - b.index) };
  }

  return {
    async emit(event) {
      const { failed } = await emitBatch([event]);
      if (failed.length) throw new Error(`EventBridge did not accept event ${event.eventId}: ${failed[0].error}`);
    },
    emitBatch,
  };
}
