/** Access patterns of the outbox: gapless per-run append, unpublished and dead-lettered events, marks. */
import { PersistenceConflictError } from "../../kernel/errors.js";
import type { CreateOutboxEventInput, OutboxEventKey, OutboxRecord } from "../../kernel/records.js";
import { INDEX, RETENTION } from "../definitions.js";
import { decodeEvent, iso, ttlSeconds } from "./codec.js";
import { batchGet, queryShards } from "./index-query.js";
import { SK, WORK, allShards, eventKey, padSequence, runKey, runPk, shardOf } from "./keys.js";
import type { Scope } from "./scope.js";
import type { Item } from "./unit-of-work.js";

const pendingIndex = (runId: string, sequence: number): Item => ({
  gsi1pk: WORK.pendingEvents(shardOf(runId)),
  gsi1sk: `${runId}#${padSequence(sequence)}`,
});

/**
 * Appends events with the run's next sequence numbers. The run's `lastEventSeq` is bumped in the
 * same unit of work under the condition that it still holds the value read, so two writers can
 * never both take a number (one gets a conflict and retries) and numbers never have gaps.
 */
export async function appendOutboxEvents(scope: Scope, events: CreateOutboxEventInput[]): Promise<OutboxRecord[]> {
  const written: OutboxRecord[] = new Array<OutboxRecord>(events.length);
  const byRun = new Map<string, { event: CreateOutboxEventInput; index: number }[]>();
  events.forEach((event, index) => byRun.set(event.workflowRunId, [...(byRun.get(event.workflowRunId) ?? []), { event, index }]));
  for (const [runId, runEvents] of byRun) {
    const run = await scope.uow.read(runKey(runId));
    if (!run) throw new PersistenceConflictError(`Run ${runId} does not exist`);
    const last = typeof run.lastEventSeq === "number" ? run.lastEventSeq : 0;
    scope.uow.update(runKey(runId), run, {
      add: { lastEventSeq: runEvents.length },
      conditions: [{ attr: "lastEventSeq", op: "=", value: last }],
    });
    runEvents.forEach(({ event, index }, i) => {
      const sequence = last + 1 + i;
      const item = scope.uow.create(eventKey(runId, sequence), {
        entity: "event",
        workflowRunId: runId,
        sequence,
        eventType: event.eventType,
        payload: event.payload,
        causationId: event.causationId,
        occurredAt: iso(event.occurredAt),
        publishedAt: null,
        retryCount: 0,
        dlqAt: null,
        ...pendingIndex(runId, sequence),
      });
      written[index] = decodeEvent(item);
    });
  }
  return written;
}

async function eventsFromIndex(scope: Scope, pks: string[], limit: number): Promise<OutboxRecord[]> {
  const hits = await queryShards(scope.ctx, pks, { indexName: INDEX.work, pkAttr: "gsi1pk", skAttr: "gsi1sk", limit });
  const items = await batchGet(scope.ctx, hits.map((hit) => hit.key));
  const events: OutboxRecord[] = [];
  for (const item of items) if (item) events.push(decodeEvent(await scope.ctx.largeItems.restore(item)));
  return events;
}

export async function getUnpublishedOutboxEvents(scope: Scope, limit: number): Promise<OutboxRecord[]> {
  const events = await eventsFromIndex(scope, allShards().map(WORK.pendingEvents), limit);
  return events
    .filter((e) => !e.publishedAt && !e.dlqAt)
    .sort((a, b) => (a.workflowRunId < b.workflowRunId ? -1 : a.workflowRunId > b.workflowRunId ? 1 : a.sequence - b.sequence));
}

export async function getDLQOutboxEvents(scope: Scope, limit: number): Promise<OutboxRecord[]> {
  const events = await eventsFromIndex(scope, allShards().map(WORK.deadEvents), limit);
  return events.filter((e) => e.dlqAt !== null);
}

export async function getOutboxEventsByRun(
  scope: Scope,
  runId: string,
  options: { afterSequence?: number; limit?: number } = {},
): Promise<OutboxRecord[]> {
  const items = await scope.uow.query(runPk(runId), SK.eventPrefix, {
    afterSk: options.afterSequence ? SK.event(options.afterSequence) : undefined,
    limit: options.limit,
  });
  return Promise.all(items.map(async (item) => decodeEvent(await scope.ctx.largeItems.restore(item))));
}

/** Marks one event published without reading it first: its index entry goes, TTL removes it later. */
export function markPublished(scope: Scope, key: OutboxEventKey, publishedAt: Date): void {
  scope.uow.update(eventKey(key.workflowRunId, key.sequence), {}, {
    set: { publishedAt: iso(publishedAt), expiresAt: ttlSeconds(publishedAt, RETENTION.publishedEventSeconds) },
    remove: ["gsi1pk", "gsi1sk"],
  });
}

async function readEvent(scope: Scope, key: OutboxEventKey): Promise<Item> {
  const item = await scope.uow.read(eventKey(key.workflowRunId, key.sequence));
  if (!item) throw new PersistenceConflictError(`Outbox event ${key.workflowRunId}:${key.sequence} does not exist`);
  return item;
}

export async function incrementOutboxRetryCount(scope: Scope, key: OutboxEventKey): Promise<number> {
  const item = await readEvent(scope, key);
  const updated = scope.uow.update(eventKey(key.workflowRunId, key.sequence), item, { add: { retryCount: 1 } });
  return updated.retryCount as number;
}

export async function moveOutboxEventToDLQ(scope: Scope, key: OutboxEventKey, at: Date): Promise<void> {
  const item = await readEvent(scope, key);
  scope.uow.update(eventKey(key.workflowRunId, key.sequence), item, {
    set: {
      dlqAt: iso(at),
      gsi1pk: WORK.deadEvents(shardOf(key.workflowRunId)),
      gsi1sk: `${iso(at)}#${key.workflowRunId}#${padSequence(key.sequence)}`,
    },
  });
}

export async function replayDLQOutboxEvents(scope: Scope, keys: OutboxEventKey[]): Promise<void> {
  for (const key of keys) {
    const item = await readEvent(scope, key);
    scope.uow.update(eventKey(key.workflowRunId, key.sequence), item, {
      set: { dlqAt: null, retryCount: 0, publishedAt: null, ...pendingIndex(key.workflowRunId, key.sequence) },
      remove: ["expiresAt"],
    });
  }
}
