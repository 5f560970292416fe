/** Outbox: gapless per-run numbering, publishing, retries, dead-lettering and replay. */
import assert from "node:assert/strict";
import type { OutboxEventKey, OutboxRecord } from "../../../kernel/records.js";
import type { ConformanceGroup } from "../harness.js";
import { addMs, assertSameTime, only, retryOnConflict } from "../support.js";
import { createRun, eventInput, eventInputs, type PersistenceConformanceFixture } from "./fixture.js";

/** Generous, so events other cases left unpublished on a shared table do not crowd ours out. */
const LARGE_LIMIT = 1000;

const keyOf = (event: OutboxRecord): OutboxEventKey => ({ workflowRunId: event.workflowRunId, sequence: event.sequence });
const idOf = (event: OutboxRecord): string => event.id;
const runOf = (event: OutboxRecord): string => event.workflowRunId;

/** Leaves nothing of ours in the unpublished index for later cases on a shared table. */
async function publishAll(fixture: PersistenceConformanceFixture, events: readonly OutboxRecord[]): Promise<void> {
  if (events.length > 0) await fixture.persistence.markOutboxEventsPublished(events.map(keyOf), fixture.clock.now());
}

export const outboxCases: ConformanceGroup<PersistenceConformanceFixture> = {
  name: "outbox",
  cases: [
    {
      name: "appendOutboxEvents returns the events numbered 1..n with stable ids and their fields",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const run = await createRun(fixture);
        const occurredAt = addMs(clock.now(), -500);
        const inputs = [eventInput(run.id, "first", occurredAt), eventInput(run.id, "second", occurredAt)];
        const events = await persistence.appendOutboxEvents(inputs);
        assert.deepEqual(events.map((e) => e.sequence), [1, 2]);
        events.forEach((event, i) => {
          assert.equal(event.id, `${run.id}:${i + 1}`, "event id is <runId>:<sequence>");
          assert.equal(event.workflowRunId, run.id);
          assert.equal(event.eventType, inputs[i].eventType);
          assert.deepEqual(event.payload, inputs[i].payload);
          assert.equal(event.causationId, inputs[i].causationId);
          assertSameTime(event.occurredAt, occurredAt, "occurredAt");
          assert.equal(event.publishedAt, null);
          assert.equal(event.retryCount, 0);
          assert.equal(event.dlqAt, null);
        });
        assert.deepEqual(await persistence.getOutboxEventsByRun(run.id), events);
        await publishAll(fixture, events);
      },
    },
    {
      name: "appendOutboxEvents records the last sequence on the run as lastEventSeq",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const events = await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "e", 3));
        assert.equal((await persistence.getRun(run.id))?.lastEventSeq, 3);
        await publishAll(fixture, events);
      },
    },
    {
      name: "appendOutboxEvents numbers each run separately, also within one call",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const a = await createRun(fixture);
        const b = await createRun(fixture);
        await persistence.appendOutboxEvents(eventInputs(fixture, a.id, "a0", 1));
        const mixed = await persistence.appendOutboxEvents([
          eventInput(a.id, "a1", clock.now()),
          eventInput(b.id, "b1", clock.now()),
          eventInput(a.id, "a2", clock.now()),
          eventInput(b.id, "b2", clock.now()),
        ]);
        assert.deepEqual(
          mixed.map((e) => [e.payload.label, e.sequence]),
          [["a1", 2], ["b1", 1], ["a2", 3], ["b2", 2]],
          "returned in input order with per-run sequences",
        );
        assert.deepEqual((await persistence.getOutboxEventsByRun(a.id)).map((e) => e.payload.label), ["a0-1", "a1", "a2"]);
        assert.deepEqual((await persistence.getOutboxEventsByRun(b.id)).map((e) => e.payload.label), ["b1", "b2"]);
        await publishAll(fixture, [...(await persistence.getOutboxEventsByRun(a.id)), ...mixed]);
      },
    },
    {
      name: "numbering stays gapless across calls and transactions, rolled-back ones included",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "call1", 2));
        await persistence.withTransaction((tx) => tx.appendOutboxEvents(eventInputs(fixture, run.id, "tx1", 2)));
        await assert.rejects(
          persistence.withTransaction(async (tx) => {
            await tx.appendOutboxEvents(eventInputs(fixture, run.id, "rolled-back", 3));
            throw new Error("roll back");
          }),
        );
        await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "call2", 1));
        await persistence.withTransaction((tx) => tx.appendOutboxEvents(eventInputs(fixture, run.id, "tx2", 1)));
        const events = await persistence.getOutboxEventsByRun(run.id);
        assert.deepEqual(events.map((e) => e.sequence), [1, 2, 3, 4, 5, 6]);
        assert.deepEqual(
          events.map((e) => e.payload.label),
          ["call1-1", "call1-2", "tx1-1", "tx1-2", "call2-1", "tx2-1"],
        );
        await publishAll(fixture, events);
      },
    },
    {
      name: "concurrent appenders for one run get unique, gapless sequence numbers (retrying on PersistenceConflictError)",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const appenders = 6;
        const callsPerAppender = 4;
        await Promise.all(
          Array.from({ length: appenders }, async (_, appender) => {
            for (let call = 0; call < callsPerAppender; call++) {
              const batch = eventInputs(fixture, run.id, `w${appender}c${call}`, 2);
              const inTransaction = call % 2 === 1;
              await retryOnConflict(() =>
                inTransaction
                  ? persistence.withTransaction((tx) => tx.appendOutboxEvents(batch))
                  : persistence.appendOutboxEvents(batch),
              );
            }
          }),
        );
        const events = await persistence.getOutboxEventsByRun(run.id);
        const total = appenders * callsPerAppender * 2;
        assert.deepEqual(
          events.map((e) => e.sequence),
          Array.from({ length: total }, (_, i) => i + 1),
          "sequences 1..n without gaps or duplicates",
        );
        assert.equal(new Set(events.map((e) => e.payload.label)).size, total, "every event stored exactly once");
        for (let i = 0; i < events.length; i += 2) {
          const label = String(events[i].payload.label);
          assert.ok(label.endsWith("-1"), `a batch stays contiguous (seq ${events[i].sequence} is ${label})`);
          assert.equal(events[i + 1].payload.label, label.replace(/-1$/, "-2"));
        }
        assert.equal((await persistence.getRun(run.id))?.lastEventSeq, total);
        await publishAll(fixture, events);
      },
    },
    {
      name: "getUnpublishedOutboxEvents returns unpublished events ordered by run then sequence, within the limit",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const a = await createRun(fixture);
        const b = await createRun(fixture);
        // Interleave the runs so an adapter ordering by insertion alone does not pass by accident.
        await persistence.appendOutboxEvents(eventInputs(fixture, b.id, "b", 1));
        clock.advance(10);
        await persistence.appendOutboxEvents(eventInputs(fixture, a.id, "a", 2));
        clock.advance(10);
        await persistence.appendOutboxEvents(eventInputs(fixture, b.id, "b-late", 2));
        const ours = new Set([a.id, b.id]);

        const unpublished = await persistence.getUnpublishedOutboxEvents(LARGE_LIMIT);
        for (const event of unpublished) {
          assert.equal(event.publishedAt, null, "only unpublished events");
          assert.equal(event.dlqAt, null, "no dead-lettered events");
        }
        const mine = only(unpublished, ours, runOf);
        assert.equal(mine.length, 5, "all five of our events are listed");
        assertOrderedByRunThenSequence(unpublished);

        const limited = await persistence.getUnpublishedOutboxEvents(2);
        assert.ok(limited.length <= 2, `limit 2 returned ${limited.length} events`);
        assert.ok(limited.length > 0, "limit 2 returned nothing although events are unpublished");
        await publishAll(fixture, mine);
      },
    },
    {
      name: "markOutboxEventsPublished removes events from the unpublished list and stamps publishedAt",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const run = await createRun(fixture);
        const events = await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "e", 3));
        const publishedAt = addMs(clock.now(), 1000);
        await persistence.markOutboxEventsPublished(events.slice(0, 2).map(keyOf), publishedAt);

        const unpublished = only(await persistence.getUnpublishedOutboxEvents(LARGE_LIMIT), new Set([run.id]), runOf);
        assert.deepEqual(unpublished.map((e) => e.sequence), [3]);
        const stored = await persistence.getOutboxEventsByRun(run.id);
        assertSameTime(stored[0].publishedAt, publishedAt, "publishedAt of event 1");
        assertSameTime(stored[1].publishedAt, publishedAt, "publishedAt of event 2");
        assert.equal(stored[2].publishedAt, null);
        await publishAll(fixture, events.slice(2));
      },
    },
    {
      name: "incrementOutboxRetryCount returns and stores the new count",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const [event] = await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "e", 1));
        assert.equal(await persistence.incrementOutboxRetryCount(keyOf(event)), 1);
        assert.equal(await persistence.incrementOutboxRetryCount(keyOf(event)), 2);
        const [stored] = await persistence.getOutboxEventsByRun(run.id);
        assert.equal(stored.retryCount, 2);
        assert.equal(stored.publishedAt, null, "still unpublished");
        await publishAll(fixture, [event]);
      },
    },
    {
      name: "moveOutboxEventToDLQ excludes the event from unpublished and lists it in getDLQOutboxEvents",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const run = await createRun(fixture);
        const events = await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "e", 2));
        const at = addMs(clock.now(), 2000);
        await persistence.incrementOutboxRetryCount(keyOf(events[0]));
        await persistence.moveOutboxEventToDLQ(keyOf(events[0]), at);

        const ours = new Set([run.id]);
        const unpublished = only(await persistence.getUnpublishedOutboxEvents(LARGE_LIMIT), ours, runOf);
        assert.deepEqual(unpublished.map((e) => e.sequence), [2]);
        const dlq = await persistence.getDLQOutboxEvents(LARGE_LIMIT);
        for (const event of dlq) assert.ok(event.dlqAt instanceof Date, "DLQ lists only dead-lettered events");
        const mine = only(dlq, ours, runOf);
        assert.deepEqual(mine.map(idOf), [events[0].id]);
        assertSameTime(mine[0].dlqAt, at, "dlqAt");
        assert.equal(mine[0].retryCount, 1);
        assert.ok((await persistence.getDLQOutboxEvents(1)).length <= 1, "getDLQOutboxEvents respects its limit");

        await persistence.replayDLQOutboxEvents([keyOf(events[0])]);
        await publishAll(fixture, events);
      },
    },
    {
      name: "replayDLQOutboxEvents makes dead-lettered events unpublished again with retryCount 0",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const run = await createRun(fixture);
        const events = await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "e", 2));
        for (const event of events) {
          await persistence.incrementOutboxRetryCount(keyOf(event));
          await persistence.moveOutboxEventToDLQ(keyOf(event), clock.now());
        }
        await persistence.replayDLQOutboxEvents(events.map(keyOf));

        const ours = new Set([run.id]);
        assert.deepEqual(only(await persistence.getDLQOutboxEvents(LARGE_LIMIT), ours, runOf), []);
        const unpublished = only(await persistence.getUnpublishedOutboxEvents(LARGE_LIMIT), ours, runOf);
        assert.deepEqual(unpublished.map((e) => e.sequence), [1, 2]);
        for (const event of unpublished) {
          assert.equal(event.retryCount, 0);
          assert.equal(event.dlqAt, null);
          assert.equal(event.publishedAt, null);
        }
        await publishAll(fixture, events);
      },
    },
    {
      name: "getOutboxEventsByRun returns a run's events in order, published ones too, after afterSequence and within limit",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const run = await createRun(fixture);
        const other = await createRun(fixture);
        const events = await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "e", 5));
        const otherEvents = await persistence.appendOutboxEvents(eventInputs(fixture, other.id, "o", 2));
        await persistence.markOutboxEventsPublished([keyOf(events[0])], clock.now());

        assert.deepEqual((await persistence.getOutboxEventsByRun(run.id)).map((e) => e.sequence), [1, 2, 3, 4, 5]);
        assert.deepEqual(
          (await persistence.getOutboxEventsByRun(run.id, { afterSequence: 2 })).map((e) => e.sequence),
          [3, 4, 5],
        );
        assert.deepEqual(
          (await persistence.getOutboxEventsByRun(run.id, { afterSequence: 2, limit: 2 })).map((e) => e.sequence),
          [3, 4],
        );
        assert.deepEqual(
          (await persistence.getOutboxEventsByRun(run.id, { limit: 1 })).map((e) => e.sequence),
          [1],
        );
        assert.deepEqual(await persistence.getOutboxEventsByRun(run.id, { afterSequence: 5 }), []);
        await publishAll(fixture, [...events, ...otherEvents]);
      },
    },
  ],
};

/** Each run's events appear together and in ascending sequence. */
function assertOrderedByRunThenSequence(events: readonly OutboxRecord[]): void {
  const finishedRuns = new Set<string>();
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const previous = i > 0 ? events[i - 1] : undefined;
    if (previous && previous.workflowRunId === event.workflowRunId) {
      assert.ok(
        event.sequence > previous.sequence,
        `run ${event.workflowRunId}: sequence ${event.sequence} listed after ${previous.sequence}`,
      );
      continue;
    }
    if (previous) finishedRuns.add(previous.workflowRunId);
    assert.ok(
      !finishedRuns.has(event.workflowRunId),
      `run ${event.workflowRunId}'s events are not listed together (ordered by run, then sequence)`,
    );
  }
}
