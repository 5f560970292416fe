import type { DynamoDBRecord, DynamoDBBatchResponse } from "aws-lambda";
import { SK, runPk } from "../../engine/aws/dynamo/keys.js";
import { toPublishedEvent } from "../../engine/kernel/index.js";
import type { EventSink, Persistence } from "../../engine/kernel/ports.js";
import type { OutboxRecord } from "../../engine/kernel/records.js";

const RUN_PREFIX = runPk("");

/** An event item's key, read from a stream record; null for any other item. */
export function eventKeyOf(record: DynamoDBRecord): { workflowRunId: string; sequence: number } | null {
  const pk = record.dynamodb?.Keys?.pk?.S;
  const sk = record.dynamodb?.Keys?.sk?.S;
  if (record.eventName !== "INSERT" || !pk?.startsWith(RUN_PREFIX) || !sk?.startsWith(SK.eventPrefix)) return null;
  return { workflowRunId: pk.slice(RUN_PREFIX.length), sequence: Number(sk.slice(SK.eventPrefix.length)) };
}

export interface PublishOutcome {
  published: number;
  /** Runs whose publishing stopped at a failure, with the reason. */
  failedRuns: { workflowRunId: string; error: string }[];
  response: DynamoDBBatchResponse;
}

/**
 * Publishes the events a stream batch announces, per run in sequence order. The stream record is
 * only a trigger: the events are read from the table, so an event whose predecessor is still
 * unpublished (a batch that was given up on) waits for it instead of overtaking it. A failure
 * stops that run; the earliest affected record is reported, and Lambda retries from there.
 */
export async function publishStreamRecords(records: DynamoDBRecord[], persistence: Persistence, eventSink: EventSink, now: () => Date): Promise<PublishOutcome> {
  const byRun = new Map<string, { firstRecord: DynamoDBRecord; firstIndex: number; minSequence: number }>();
  records.forEach((record, index) => {
    const key = eventKeyOf(record);
    if (!key) return;
    const seen = byRun.get(key.workflowRunId);
    if (!seen) byRun.set(key.workflowRunId, { firstRecord: record, firstIndex: index, minSequence: key.sequence });
    else seen.minSequence = Math.min(seen.minSequence, key.sequence);
  });

  const results = await Promise.all(
    [...byRun].map(async ([workflowRunId, info]) => {
      try {
        return { workflowRunId, info, published: await publishRun(workflowRunId, info.minSequence, persistence, eventSink, now) };
      } catch (error) {
        return { workflowRunId, info, published: 0, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );

  const failures = results.filter((r) => r.error !== undefined);
  // Lambda resumes from the lowest reported record; reporting the earliest failing one suffices.
  const earliest = failures.sort((a, b) => a.info.firstIndex - b.info.firstIndex)[0];
  const itemIdentifier = earliest?.info.firstRecord.dynamodb?.SequenceNumber;
  return {
    published: results.reduce((sum, r) => sum + r.published, 0),
    failedRuns: failures.map((f) => ({ workflowRunId: f.workflowRunId, error: f.error! })),
    response: { batchItemFailures: itemIdentifier ? [{ itemIdentifier }] : [] },
  };
}

async function publishRun(workflowRunId: string, minSequence: number, persistence: Persistence, eventSink: EventSink, now: () => Date): Promise<number> {
  // Read from the predecessor on: if it is published, every earlier event is (publishing is in order).
  let events = await persistence.getOutboxEventsByRun(workflowRunId, { afterSequence: Math.max(0, minSequence - 2) });
  const predecessor = events.find((e) => e.sequence === minSequence - 1);
  if (predecessor && !predecessor.publishedAt) events = await persistence.getOutboxEventsByRun(workflowRunId);
  const pending = events.filter((e) => !e.publishedAt && !e.dlqAt).sort((a, b) => a.sequence - b.sequence);
  if (pending.length === 0) return 0;

  const { published, error } = await emitInOrder(pending, eventSink);
  if (published.length) {
    await persistence.markOutboxEventsPublished(
      published.map((e) => ({ workflowRunId, sequence: e.sequence })),
      now(),
    );
  }
  if (error) throw new Error(`event ${pending[published.length].id}: ${error}`);
  return published.length;
}

async function emitInOrder(pending: OutboxRecord[], eventSink: EventSink): Promise<{ published: OutboxRecord[]; error?: string }> {
  if (eventSink.emitBatch) {
    const { failed } = await eventSink.emitBatch(pending.map(toPublishedEvent));
    const cut = failed.length ? Math.min(...failed.map((f) => f.index)) : pending.length;
    return { published: pending.slice(0, cut), error: failed.find((f) => f.index === cut)?.error };
  }
  const published: OutboxRecord[] = [];
  for (const event of pending) {
    try {
      await eventSink.emit(toPublishedEvent(event));
      published.push(event);
    } catch (error) {
      return { published, error: error instanceof Error ? error.message : String(error) };
    }
  }
  return { published };
}
