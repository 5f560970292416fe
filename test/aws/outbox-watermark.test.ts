/**
 * The DynamoDB outbox's publish watermark (engine/aws/dynamo/outbox.ts): every event keeps its own
 * publish time although publishing writes only the run item, out-of-order marks, dead letters and
 * replays keep the port's behaviour, and a run leaves the outbox index once all is published.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { FakeClock } from "../../engine/kernel/testing/fake-clock.js";
import { createDynamoWorkflowPersistence } from "../../engine/aws/index.js";
import { createEngineTable } from "../../engine/aws/local/index.js";
import type { OutboxRecord } from "../../engine/kernel/records.js";
import { localClients, uniqueName } from "../support/emulators/inject.js";

const clients = localClients();
const tableName = uniqueName("outbox-watermark");
beforeAll(() => createEngineTable(clients.dynamo, tableName));
afterAll(() => clients.destroy());

function setup() {
  const clock = new FakeClock(new Date("2025-01-01T00:00:00Z"));
  const persistence = createDynamoWorkflowPersistence({ client: clients.document, tableName, clock });
  let n = 0;
  const createRun = () =>
    persistence.createRun({
      id: uniqueName("run"),
      workflowId: "wf",
      workflowName: "wf",
      workflowType: "test",
      status: "RUNNING",
      input: {},
      config: {},
      priority: 5,
    });
  const append = (runId: string, count: number) =>
    persistence.appendOutboxEvents(
      Array.from({ length: count }, () => ({ workflowRunId: runId, eventType: "t", payload: { n: ++n }, causationId: "c", occurredAt: clock.now() })),
    );
  const keys = (events: OutboxRecord[]) => events.map((e) => ({ workflowRunId: e.workflowRunId, sequence: e.sequence }));
  const times = async (runId: string) => (await persistence.getOutboxEventsByRun(runId)).map((e) => e.publishedAt?.toISOString() ?? null);
  const unpublished = async (runId: string) =>
    (await persistence.getUnpublishedOutboxEvents(1000)).filter((e) => e.workflowRunId === runId).map((e) => e.sequence);
  const inIndex = async (runId: string) => {
    const { Item } = await clients.document.send(new GetCommand({ TableName: tableName, Key: { pk: `RUN#${runId}`, sk: "#RUN" }, ConsistentRead: true }));
    return Item?.gsi4pk !== undefined;
  };
  return { clock, persistence, createRun, append, keys, times, unpublished, inIndex };
}

describe("DynamoDB outbox watermark", () => {
  it("keeps each event's publish time over several publishes, with and without appends in between", async () => {
    const { clock, persistence, createRun, append, keys, times, unpublished, inIndex } = setup();
    const run = await createRun();
    const a = await append(run.id, 2);
    expect(await inIndex(run.id)).toBe(true);
    const t1 = clock.now();
    await persistence.markOutboxEventsPublished(keys(a), t1);
    expect(await inIndex(run.id)).toBe(false);
    clock.advance(1000);
    const b = await append(run.id, 3);
    const t2 = clock.now();
    // Two moves without an append between them: the first is kept in a PUB item.
    await persistence.markOutboxEventsPublished(keys(b.slice(0, 1)), t2);
    clock.advance(1000);
    const t3 = clock.now();
    await persistence.markOutboxEventsPublished(keys(b.slice(1)), t3);
    clock.advance(1000);
    const c = await append(run.id, 1);
    expect(await unpublished(run.id)).toEqual([6]);
    const iso = (d: Date) => d.toISOString();
    expect(await times(run.id)).toEqual([iso(t1), iso(t1), iso(t2), iso(t3), iso(t3), null]);
    const t4 = clock.now();
    await persistence.markOutboxEventsPublished(keys(c), t4);
    expect(await times(run.id)).toEqual([iso(t1), iso(t1), iso(t2), iso(t3), iso(t3), iso(t4)]);
    // Windows of the list see the same times.
    expect((await persistence.getOutboxEventsByRun(run.id, { afterSequence: 1, limit: 2 })).map((e) => e.publishedAt?.toISOString())).toEqual([iso(t1), iso(t2)]);
    expect((await persistence.getOutboxEventsByRun(run.id, { afterSequence: 3, limit: 1 })).map((e) => e.publishedAt?.toISOString())).toEqual([iso(t3)]);
    expect(await unpublished(run.id)).toEqual([]);
    expect(await inIndex(run.id)).toBe(false);
  });

  it("marks out of order, then closes the gap", async () => {
    const { clock, persistence, createRun, append, keys, times, unpublished, inIndex } = setup();
    const run = await createRun();
    const events = await append(run.id, 3);
    const t1 = clock.now();
    await persistence.markOutboxEventsPublished(keys(events.slice(2)), t1);
    expect(await unpublished(run.id)).toEqual([1, 2]);
    clock.advance(500);
    const t2 = clock.now();
    await persistence.markOutboxEventsPublished(keys(events.slice(0, 2)), t2);
    expect(await times(run.id)).toEqual([t2.toISOString(), t2.toISOString(), t1.toISOString()]);
    expect(await unpublished(run.id)).toEqual([]);
    expect(await inIndex(run.id)).toBe(false);
  });

  it("a dead letter lets the watermark pass; replaying it makes it pending again until published", async () => {
    const { clock, persistence, createRun, append, keys, times, unpublished, inIndex } = setup();
    const run = await createRun();
    const events = await append(run.id, 3);
    await persistence.incrementOutboxRetryCount(keys(events)[0]);
    await persistence.moveOutboxEventToDLQ(keys(events)[0], clock.now());
    expect(await unpublished(run.id)).toEqual([2, 3]);
    const t1 = clock.now();
    await persistence.markOutboxEventsPublished(keys(events.slice(1)), t1);
    expect(await unpublished(run.id)).toEqual([]);
    expect(await inIndex(run.id)).toBe(false);
    expect((await persistence.getDLQOutboxEvents(1000)).filter((e) => e.workflowRunId === run.id).map((e) => e.sequence)).toEqual([1]);

    await persistence.replayDLQOutboxEvents(keys(events.slice(0, 1)));
    expect(await inIndex(run.id)).toBe(true);
    expect(await unpublished(run.id)).toEqual([1]);
    expect(await times(run.id)).toEqual([null, t1.toISOString(), t1.toISOString()]);
    clock.advance(1000);
    const t2 = clock.now();
    await persistence.markOutboxEventsPublished(keys(events.slice(0, 1)), t2);
    expect(await times(run.id)).toEqual([t2.toISOString(), t1.toISOString(), t1.toISOString()]);
    expect(await unpublished(run.id)).toEqual([]);
    expect(await inIndex(run.id)).toBe(false);
    const stored = await persistence.getOutboxEventsByRun(run.id);
    expect(stored.map((e) => [e.retryCount, e.dlqAt])).toEqual([[0, null], [0, null], [0, null]]);
  });

  it("marks inside a transaction", async () => {
    const { clock, persistence, createRun, append, keys, unpublished, inIndex } = setup();
    const run = await createRun();
    const events = await append(run.id, 2);
    await persistence.withTransaction(async (tx) => {
      await tx.markOutboxEventsPublished(keys(events), clock.now());
    });
    expect(await unpublished(run.id)).toEqual([]);
    expect(await inIndex(run.id)).toBe(false);
  });

  it("stores a completed run's output once, in its workflow:completed event, and reads it back through the run", async () => {
    const { clock, persistence, createRun } = setup();
    const run = await createRun();
    const output = { items: Array.from({ length: 20 }, (_, i) => ({ i, text: "x".repeat(100) })) };
    await persistence.withTransaction(async (tx) => {
      await tx.updateRun(run.id, { status: "COMPLETED", output });
      await tx.appendOutboxEvents([{ workflowRunId: run.id, eventType: "workflow:completed", payload: { type: "workflow:completed", output }, causationId: "c", occurredAt: clock.now() }]);
    });
    const { Item } = await clients.document.send(new GetCommand({ TableName: tableName, Key: { pk: `RUN#${run.id}`, sk: "#RUNDATA" }, ConsistentRead: true }));
    expect(JSON.stringify(Item?.output).length).toBeLessThan(100);
    expect((await persistence.getRun(run.id))?.output).toEqual(output);
    expect((await persistence.listRuns({ workflowId: "wf", limit: 1000 })).runs.find((r) => r.id === run.id)?.output).toEqual(output);
    const [event] = await persistence.getOutboxEventsByRun(run.id);
    expect(event.payload.output).toEqual(output);
    // A later change of the output (a rerun) replaces the reference; the event keeps its payload.
    await persistence.updateRun(run.id, { output: null });
    expect((await persistence.getRun(run.id))?.output).toBeNull();
    expect((await persistence.getOutboxEventsByRun(run.id))[0].payload.output).toEqual(output);
  });
});
