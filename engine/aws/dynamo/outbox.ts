/**
 * Access patterns of the outbox: gapless per-run append, unpublished and dead-lettered events,
 * publish marks.
 *
 * Publishing moves a per-run **watermark** on the run's hot item instead of rewriting every event:
 *
 * - `pubSeq`: every event up to it is published (or dead-lettered, which its own item says).
 * - `pubFrom`/`pubAt`: the latest watermark move ("events pubFrom..pubSeq were published at
 *   pubAt") until the next append copies it onto the new event item as `prevPub`; a move that finds
 *   the previous one not yet copied writes it to a `PUB#<to>` item. So every event's publish time
 *   stays known without a write per event.
 * - The run is in the sparse outbox index (gsi4) while it has events past the watermark: every
 *   append sets the entry (same key, so no index write while it is there), the mark that brings the
 *   watermark to `lastEventSeq` removes it. Events carry no index entry.
 * - An event published out of order (after a gap the watermark cannot pass) gets its own
 *   `publishedAt`; retry counts and dead letters stay on the event item as before.
 *
 * A publish (one run, any number of events) therefore costs one small update of the run item plus
 * the index entry going, and one index write when the run gets events again, instead of an update
 * and two index writes per event. Events get their TTL when written (RETENTION.eventSeconds); an
 * event whose publishing failed loses it.
 */
import { PersistenceConflictError } from "../../kernel/errors.js";
import type { CreateOutboxEventInput, OutboxEventKey, OutboxRecord } from "../../kernel/records.js";
import { INDEX, RETENTION } from "../definitions.js";
import { decodeEvent, iso, ttlSeconds } from "./codec.js";
import type { Condition } from "./expression.js";
import { batchGet, queryShards } from "./index-query.js";
import { SK, WORK, allShards, eventKey, padSequence, runDataKey, runKey, runPk, shardOf } from "./keys.js";
import type { Scope } from "./scope.js";
import { queryPartition, type Item } from "./unit-of-work.js";

const POINTER_ATTRS = ["gsi4pk", "gsi4sk"] as const;
const pointer = (runId: string): Item => ({ gsi4pk: WORK.outboxRuns(shardOf(runId)), gsi4sk: runId });
const pubKey = (runId: string, toSequence: number) => ({ pk: runPk(runId), sk: SK.pub(toSequence) });

const num = (value: unknown): number => (typeof value === "number" ? value : 0);
const seqOf = (item: Item): number => num(item.sequence);

/** A watermark move: events `from..to` were published at `at` (ISO). */
interface Segment {
  from: number;
  to: number;
  at: string;
}

function segmentOf(value: unknown): Segment | null {
  if (!value || typeof value !== "object") return null;
  const { from, to, at } = value as Record<string, unknown>;
  return typeof from === "number" && typeof to === "number" && typeof at === "string" ? { from, to, at } : null;
}

/** The run's current (not yet copied) watermark move. */
function currentSegment(run: Item): Segment | null {
  return typeof run.pubAt === "string" ? { from: num(run.pubFrom), to: num(run.pubSeq), at: run.pubAt } : null;
}

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
    // The latest watermark move rides on the first new event (no write of its own).
    const moved = currentSegment(run);
    scope.uow.update(runKey(runId), run, {
      add: { lastEventSeq: runEvents.length },
      // Set on every append: the same key again costs no index write, and a publish that removed
      // the entry after we read the run cannot leave these events without one.
      set: pointer(runId),
      remove: moved ? ["pubAt", "pubFrom"] : [],
      conditions: [
        { attr: "lastEventSeq", op: "=", value: last },
        ...(moved ? [{ attr: "pubAt", op: "=", value: moved.at } as const] : []),
      ],
    });
    runEvents.forEach(({ event, index }, i) => {
      const sequence = last + 1 + i;
      const holdsOutput = storeRunOutputOnce(scope, runId, sequence, event);
      const item = scope.uow.create(eventKey(runId, sequence), {
        entity: "event",
        workflowRunId: runId,
        sequence,
        eventType: event.eventType,
        payload: event.payload,
        causationId: event.causationId,
        occurredAt: iso(event.occurredAt),
        // The event that holds the run's output lives as long as the run.
        ...(holdsOutput ? { holdsRunOutput: true } : { expiresAt: ttlSeconds(event.occurredAt, RETENTION.eventSeconds) }),
        ...(moved && i === 0 ? { prevPub: moved } : {}),
      });
      written[index] = decodeEvent(item);
    });
  }
  return written;
}

/** Outputs smaller than this are not worth a reference (they fit the run's data item anyway). */
const OUTPUT_REFERENCE_MIN_BYTES = 256;

/**
 * `workflow:completed` carries the run's output, which the same unit of work also writes to the
 * run's `#RUNDATA` item: store it once, in the event (immutable; no TTL), and let `#RUNDATA` point
 * to it (`RUN_OUTPUT_REF`). Saves writing the output twice (a parallel group's combined output is
 * 20 KB: 40 WRU per run in a transaction). A later change of the run's output (a rerun) replaces
 * the reference; the event keeps what it carried. Returns true when the event now holds the output.
 */
function storeRunOutputOnce(scope: Scope, runId: string, sequence: number, event: CreateOutboxEventInput): boolean {
  const output = (event.payload as { output?: unknown } | undefined)?.output;
  if (event.eventType !== "workflow:completed" || output === undefined || output === null) return false;
  const data = scope.uow.pending(runDataKey(runId));
  if (!data || data.output === undefined) return false;
  const json = JSON.stringify(output);
  if (json.length < OUTPUT_REFERENCE_MIN_BYTES || JSON.stringify(data.output) !== json) return false;
  scope.uow.update(runDataKey(runId), data, { set: { output: { [RUN_OUTPUT_REF]: SK.event(sequence) } } });
  return true;
}

/** Marker of a run output stored in an event item: `{ [RUN_OUTPUT_REF]: "EVENT#<seq>" }`. */
export const RUN_OUTPUT_REF = "$stageflowOutputInEvent";

// Reading events --------------------------------------------------------------------------------

/** Sequences replayed from the dead-letter queue below the watermark: unpublished again. */
function redoOf(run: Item | null): number[] {
  return Array.isArray(run?.pubRedo) ? (run.pubRedo as unknown[]).filter((v): v is number => typeof v === "number") : [];
}

/**
 * Decodes a run's event items with their publish state: an event's own `publishedAt` / `dlqAt`
 * first, then the watermark (publish time from the segment that covers it).
 */
async function decodeRunEvents(scope: Scope, runId: string, run: Item | null, items: Item[], lookahead: Item[]): Promise<OutboxRecord[]> {
  const pubSeq = run ? num(run.pubSeq) : 0;
  const redo = new Set(redoOf(run));
  const needTime = (item: Item) => !item.dlqAt && !item.publishedAt && seqOf(item) <= pubSeq && !redo.has(seqOf(item));
  const segments: Segment[] = [];
  const current = run ? currentSegment(run) : null;
  if (current) segments.push(current);
  const collect = (list: Item[]) => {
    for (const item of list) {
      const segment = segmentOf(item.prevPub);
      if (segment) segments.push(segment);
    }
  };
  collect(items);
  collect(lookahead);
  const covered = (seq: number) => segments.some((s) => s.from <= seq && seq <= s.to);
  let missing = items.filter((item) => needTime(item) && !covered(seqOf(item)));
  if (missing.length) {
    // Moves that could not ride on an event have PUB items (keyed by their last sequence).
    const first = Math.min(...missing.map(seqOf));
    for (const mark of await scope.uow.query(runPk(runId), SK.pubPrefix, { afterSk: SK.pub(first - 1) })) {
      const segment = segmentOf(mark);
      if (segment) segments.push(segment);
    }
    missing = missing.filter((item) => !covered(seqOf(item)));
  }
  if (missing.length) {
    // A move copied onto an event appended later than the one right after it.
    const lastRead = [...items, ...lookahead].reduce((max, item) => Math.max(max, seqOf(item)), 0);
    collect(await scope.uow.query(runPk(runId), SK.eventPrefix, { afterSk: SK.event(lastRead) }));
  }
  const timeOf = (seq: number): string | null => segments.find((s) => s.from <= seq && seq <= s.to)?.at ?? null;
  return Promise.all(
    items.map(async (raw) => {
      const record = decodeEvent(await scope.ctx.largeItems.restore(raw));
      if (needTime(raw)) {
        // Every watermark move is recorded (run item, a later event or a PUB item); the event's
        // own time is a last resort that should never be needed.
        record.publishedAt = new Date(timeOf(record.sequence) ?? (raw.occurredAt as string));
      }
      return record;
    }),
  );
}

export async function getOutboxEventsByRun(
  scope: Scope,
  runId: string,
  options: { afterSequence?: number; limit?: number } = {},
): Promise<OutboxRecord[]> {
  const [run, fetched] = await Promise.all([
    scope.uow.read(runKey(runId)),
    scope.uow.query(runPk(runId), SK.eventPrefix, {
      afterSk: options.afterSequence ? SK.event(options.afterSequence) : undefined,
      // One more than asked: the move covering the last events usually rides on the next one.
      limit: options.limit ? options.limit + 1 : undefined,
    }),
  ]);
  const items = options.limit ? fetched.slice(0, options.limit) : fetched;
  return decodeRunEvents(scope, runId, run, items, fetched.slice(items.length));
}

const isPending = (item: Item | null): item is Item => !!item && !item.publishedAt && !item.dlqAt;

/** A run's unpublished events in sequence order: replayed ones below the watermark, then those after it. */
async function pendingOfRun(scope: Scope, run: Item): Promise<Item[]> {
  const pk = run.pk as string;
  const runId = pk.slice("RUN#".length);
  const redo = redoOf(run);
  const [replayed, after] = await Promise.all([
    redo.length ? batchGet(scope.ctx, redo.map((seq) => eventKey(runId, seq))) : Promise.resolve([]),
    num(run.lastEventSeq) > num(run.pubSeq)
      ? queryPartition(scope.ctx, pk, SK.eventPrefix, { afterSk: SK.event(num(run.pubSeq)) })
      : Promise.resolve([]),
  ]);
  return [...replayed.filter(isPending).sort((a, b) => seqOf(a) - seqOf(b)), ...after.filter(isPending)];
}

export async function getUnpublishedOutboxEvents(scope: Scope, limit: number): Promise<OutboxRecord[]> {
  const hits = await queryShards(scope.ctx, allShards().map(WORK.outboxRuns), {
    indexName: INDEX.outbox,
    pkAttr: "gsi4pk",
    skAttr: "gsi4sk",
    limit,
  });
  // Hits are ordered by run id (the index sort key), so events come out by run, then sequence.
  const runs = await batchGet(scope.ctx, hits.map((hit) => hit.key));
  const perRun = await Promise.all(runs.map((run) => (run ? pendingOfRun(scope, run) : Promise.resolve([]))));
  const items = perRun.flat().slice(0, limit);
  return Promise.all(items.map(async (item) => decodeEvent(await scope.ctx.largeItems.restore(item))));
}

export async function getDLQOutboxEvents(scope: Scope, limit: number): Promise<OutboxRecord[]> {
  const hits = await queryShards(scope.ctx, allShards().map(WORK.deadEvents), { indexName: INDEX.work, pkAttr: "gsi1pk", skAttr: "gsi1sk", limit });
  const items = await batchGet(scope.ctx, hits.map((hit) => hit.key));
  const events: OutboxRecord[] = [];
  for (const item of items) if (item?.dlqAt) events.push(decodeEvent(await scope.ctx.largeItems.restore(item)));
  return events;
}

// Publishing --------------------------------------------------------------------------------------

/**
 * Watermark move of a publisher that published exactly the events right after the watermark (the
 * usual case): one conditional update of the run item, nothing read first. With `toLast` the
 * events must reach the run's last one and the run leaves the outbox index. Returns false when the
 * keys are not such a run (the caller takes `markPublished`); a failed condition throws a conflict.
 */
export function markPublishedFast(scope: Scope, runId: string, sequences: readonly number[], publishedAt: Date, toLast: boolean): boolean {
  const sorted = [...new Set(sequences)].sort((a, b) => a - b);
  const from = sorted[0];
  const to = sorted[sorted.length - 1];
  if (from === undefined || to - from + 1 !== sorted.length) return false;
  const conditions: Condition[] = [
    { attr: "pubSeq", op: "=", value: from - 1 },
    // A move not yet copied onto an event needs a PUB item first: the slow path writes it.
    { attr: "pubAt", op: "not_exists" },
  ];
  if (toLast) conditions.push({ attr: "lastEventSeq", op: "=", value: to }, { attr: "pubRedo", op: "not_exists" });
  else conditions.push({ attr: "lastEventSeq", op: ">", value: to });
  scope.uow.update(runKey(runId), {}, {
    set: { pubSeq: to, pubFrom: from, pubAt: iso(publishedAt) },
    remove: toLast ? [...POINTER_ATTRS] : [],
    conditions,
  });
  return true;
}

/** Next watermark: over every event right after it that is (now) published or dead-lettered. */
function nextWatermark(pubSeq: number, last: number, after: Map<number, Item>, marked: Set<number>): number {
  let watermark = pubSeq;
  while (watermark < last) {
    const next = after.get(watermark + 1);
    if (!next || !(marked.has(watermark + 1) || next.publishedAt || next.dlqAt)) break;
    watermark++;
  }
  return watermark;
}

/**
 * Writes a run's new publish state (read in this unit): watermark, replayed events still pending,
 * the outbox index entry. The move from the read watermark is published at `at`; a previous move
 * not yet copied onto an event is kept in a PUB item.
 */
function writePublishState(scope: Scope, runId: string, run: Item, state: { watermark: number; redo: number[]; at: string }): void {
  const pubSeq = num(run.pubSeq);
  const last = num(run.lastEventSeq);
  const set: Item = {};
  const remove: string[] = [];
  if (state.watermark > pubSeq) {
    const previous = currentSegment(run);
    if (previous) scope.uow.put(pubKey(runId, previous.to), { entity: "pub", ...previous, expiresAt: ttlSeconds(new Date(previous.at), RETENTION.eventSeconds) });
    Object.assign(set, { pubSeq: state.watermark, pubFrom: pubSeq + 1, pubAt: state.at });
  }
  if (state.redo.length) set.pubRedo = state.redo;
  else if (redoOf(run).length) remove.push("pubRedo");
  // Marks of one run take turns on pubSeq. Appends may go on meanwhile (they only add events
  // after `last` and copy `pubAt` away, which a PUB item duplicates harmlessly); only leaving the
  // outbox index needs `last` to still be the run's last event.
  const conditions: Condition[] = [
    // Runs written before the watermark existed have no pubSeq yet.
    pubSeq === 0 ? { or: [{ attr: "pubSeq", op: "not_exists" }, { attr: "pubSeq", op: "=", value: 0 }] } : { attr: "pubSeq", op: "=", value: pubSeq },
  ];
  if (state.watermark >= last && state.redo.length === 0) {
    remove.push(...POINTER_ATTRS);
    conditions.push({ attr: "lastEventSeq", op: "=", value: last });
  } else Object.assign(set, pointer(runId));
  scope.uow.update(runKey(runId), run, { set, remove, conditions });
}

/**
 * Marks a run's events published (read, then decide): the watermark moves over every event right
 * after it that is now published or dead-lettered; events beyond a gap and replayed ones below the
 * watermark get their own `publishedAt`.
 */
export async function markPublished(scope: Scope, runId: string, sequences: readonly number[], publishedAt: Date): Promise<void> {
  const run = await scope.uow.read(runKey(runId));
  if (!run) throw new PersistenceConflictError(`Run ${runId} does not exist`);
  const at = iso(publishedAt)!;
  const marked = new Set(sequences);
  const pubSeq = num(run.pubSeq);
  const last = num(run.lastEventSeq);
  const redo = redoOf(run);
  const redone = redo.filter((seq) => marked.has(seq));
  const ahead = [...marked].filter((seq) => seq > pubSeq && seq <= last);
  if (ahead.length === 0 && redone.length === 0) return;
  for (const seq of redone) {
    const item = await scope.uow.read(eventKey(runId, seq));
    if (item) scope.uow.update(eventKey(runId, seq), item, { set: { publishedAt: at } });
  }
  let watermark = pubSeq;
  if (ahead.length) {
    const items = await scope.uow.query(runPk(runId), SK.eventPrefix, { afterSk: SK.event(pubSeq) });
    const bySeq = new Map(items.map((item) => [seqOf(item), item]));
    watermark = nextWatermark(pubSeq, last, bySeq, marked);
    for (const seq of ahead) {
      const item = bySeq.get(seq);
      if (seq > watermark && item && !item.publishedAt) scope.uow.update(eventKey(runId, seq), item, { set: { publishedAt: at } });
    }
  }
  writePublishState(scope, runId, run, { watermark, redo: redo.filter((seq) => !marked.has(seq)), at });
}

async function readEvent(scope: Scope, key: OutboxEventKey): Promise<Item> {
  const item = await scope.uow.read(eventKey(key.workflowRunId, key.sequence));
  if (!item) throw new PersistenceConflictError(`Outbox event ${key.workflowRunId}:${key.sequence} does not exist`);
  return item;
}

export async function incrementOutboxRetryCount(scope: Scope, key: OutboxEventKey): Promise<number> {
  const item = await readEvent(scope, key);
  // A failing event must not expire unpublished.
  const updated = scope.uow.update(eventKey(key.workflowRunId, key.sequence), item, { add: { retryCount: 1 }, remove: ["expiresAt"] });
  return updated.retryCount as number;
}

export async function moveOutboxEventToDLQ(scope: Scope, key: OutboxEventKey, at: Date): Promise<void> {
  const { workflowRunId: runId, sequence } = key;
  const item = await readEvent(scope, key);
  scope.uow.update(eventKey(runId, sequence), item, {
    set: {
      dlqAt: iso(at),
      gsi1pk: WORK.deadEvents(shardOf(runId)),
      gsi1sk: `${iso(at)}#${runId}#${padSequence(sequence)}`,
    },
    remove: ["expiresAt"],
  });
  const run = await scope.uow.read(runKey(runId));
  if (!run) return;
  const pubSeq = num(run.pubSeq);
  const redo = redoOf(run);
  if (redo.includes(sequence)) {
    writePublishState(scope, runId, run, { watermark: pubSeq, redo: redo.filter((seq) => seq !== sequence), at: iso(at)! });
  } else if (sequence === pubSeq + 1) {
    // A dead letter right after the watermark no longer holds it back.
    const items = await scope.uow.query(runPk(runId), SK.eventPrefix, { afterSk: SK.event(pubSeq) });
    const watermark = nextWatermark(pubSeq, num(run.lastEventSeq), new Map(items.map((e) => [seqOf(e), e])), new Set());
    writePublishState(scope, runId, run, { watermark, redo, at: iso(at)! });
  }
}

/**
 * Makes dead-lettered events unpublished again. One after the watermark is simply pending again;
 * one the watermark passed is listed in the run's `pubRedo` until it is published.
 */
export async function replayDLQOutboxEvents(scope: Scope, keys: OutboxEventKey[]): Promise<void> {
  for (const key of keys) {
    const { workflowRunId: runId, sequence } = key;
    const item = await readEvent(scope, key);
    scope.uow.update(eventKey(runId, sequence), item, {
      set: item.holdsRunOutput ? {} : { expiresAt: ttlSeconds(scope.clock.now(), RETENTION.eventSeconds) },
      remove: ["dlqAt", "retryCount", "publishedAt", "gsi1pk", "gsi1sk"],
    });
    const run = await scope.uow.read(runKey(runId));
    if (!run) continue;
    const redo = redoOf(run);
    const below = sequence <= num(run.pubSeq) && !redo.includes(sequence);
    writePublishState(scope, runId, run, {
      watermark: num(run.pubSeq),
      redo: below ? [...redo, sequence].sort((a, b) => a - b) : redo,
      at: iso(scope.clock.now())!,
    });
  }
}
