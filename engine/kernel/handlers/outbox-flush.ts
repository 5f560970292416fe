import { randomUUID } from "node:crypto";
import type { OutboxFlushCommand, OutboxFlushResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";
import type { KernelEvent } from "../events.js";
import type { PublishedEvent } from "../ports.js";
import type { OutboxRecord } from "../records.js";

const FLUSH_LOCK = "outbox.flush";
const FLUSH_LOCK_TTL_MS = 60_000;

export function toPublishedEvent(record: OutboxRecord): PublishedEvent {
  // Object.assign, not a spread plus two fields: this runs for every event published.
  const event = Object.assign({}, record.payload as unknown as KernelEvent) as PublishedEvent;
  event.eventId = record.id;
  event.sequence = record.sequence;
  return event;
}

/** Publishes one run's events in order and stops at the first failure, so none overtakes an earlier one. */
async function publishRun(deps: KernelDeps, events: OutboxRecord[]): Promise<{ published: OutboxRecord[]; failed?: { record: OutboxRecord; error: string } }> {
  const published: OutboxRecord[] = [];
  if (deps.eventSink.emitBatch) {
    const batch = events.map(toPublishedEvent);
    const result = await deps.eventSink.emitBatch(batch).catch((error: unknown) => ({
      failed: [{ index: 0, error: error instanceof Error ? error.message : String(error) }],
    }));
    const firstFailure = result.failed.reduce<{ index: number; error: string } | undefined>(
      (first, f) => (!first || f.index < first.index ? f : first),
      undefined,
    );
    const cut = firstFailure?.index ?? events.length;
    published.push(...events.slice(0, cut));
    return firstFailure ? { published, failed: { record: events[cut]!, error: firstFailure.error } } : { published };
  }
  for (const record of events) {
    try {
      await deps.eventSink.emit(toPublishedEvent(record));
      published.push(record);
    } catch (error) {
      return { published, failed: { record, error: error instanceof Error ? error.message : String(error) } };
    }
  }
  return { published };
}

/**
 * `outbox.flush`: publishes pending events per run in sequence order. A lock keeps two flushes
 * from publishing the same events at once. An event that keeps failing is retried on later
 * flushes, holding back its run's later events, and dead-lettered after `outboxMaxRetries`.
 */
export async function handleOutboxFlush(deps: KernelDeps, command: OutboxFlushCommand): Promise<OutboxFlushResult> {
  const owner = randomUUID();
  const locked = await deps.persistence.tryAcquireLock(FLUSH_LOCK, owner, { now: deps.clock.now(), ttlMs: FLUSH_LOCK_TTL_MS });
  if (!locked) return { published: 0, failed: 0, deadLettered: 0 };
  try {
    const pending = await deps.persistence.getUnpublishedOutboxEvents(command.maxEvents ?? 500);
    const newest = deps.clock.now().getTime() - (command.minAgeMs ?? 0);
    const byRun = new Map<string, OutboxRecord[]>();
    const heldBack = new Set<string>();
    for (const record of pending) {
      // Stop a run at its first too-recent event so its later events cannot overtake it.
      if (heldBack.has(record.workflowRunId) || record.occurredAt.getTime() > newest) {
        heldBack.add(record.workflowRunId);
        continue;
      }
      let list = byRun.get(record.workflowRunId);
      if (!list) byRun.set(record.workflowRunId, (list = []));
      list.push(record);
    }
    let published = 0;
    let failed = 0;
    let deadLettered = 0;
    for (const events of byRun.values()) {
      const outcome = await publishRun(deps, events);
      if (outcome.published.length) {
        await deps.persistence.markOutboxEventsPublished(
          outcome.published.map((e) => ({ workflowRunId: e.workflowRunId, sequence: e.sequence })),
          deps.clock.now(),
        );
        published += outcome.published.length;
      }
      if (outcome.failed) {
        failed++;
        const key = { workflowRunId: outcome.failed.record.workflowRunId, sequence: outcome.failed.record.sequence };
        const retries = await deps.persistence.incrementOutboxRetryCount(key);
        if (retries >= deps.outboxMaxRetries) {
          await deps.persistence.moveOutboxEventToDLQ(key, deps.clock.now());
          deadLettered++;
        }
      }
    }
    return { published, failed, deadLettered };
  } finally {
    await deps.persistence.releaseLock(FLUSH_LOCK, owner);
  }
}
