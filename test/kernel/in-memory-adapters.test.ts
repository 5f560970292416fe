import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import { FakeClock } from "../../engine/kernel/testing/index.js";
import { InMemoryAICallLogger, InMemoryJobQueue, InMemoryWorkflowPersistence } from "../../engine/testing/index.js";
import { createHarness } from "../support/kernel-harness.js";

class Boom extends Error {}

/** A Map that counts lookups and full scans, to show which queries touch all stored rows. */
class CountingMap<K, V> extends Map<K, V> {
  gets = 0;
  scans = 0;
  override get(key: K): V | undefined {
    this.gets++;
    return super.get(key);
  }
  override values(): MapIterator<V> {
    this.scans++;
    return super.values();
  }
  override keys(): MapIterator<K> {
    this.scans++;
    return super.keys();
  }
  override entries(): MapIterator<[K, V]> {
    this.scans++;
    return super.entries();
  }
  override [Symbol.iterator](): MapIterator<[K, V]> {
    this.scans++;
    return super[Symbol.iterator]();
  }
  override forEach(callback: (value: V, key: K, map: Map<K, V>) => void): void {
    this.scans++;
    super.forEach(callback);
  }
}

/** The store's two maps keyed by run id: runs, and each run's stages, events and logs ("slots"). */
interface StoreInternals {
  runs: Map<string, unknown>;
  slots: Map<string, unknown>;
}

describe("in-memory persistence", () => {
  it("rolls back every write of a transaction that throws", async () => {
    const clock = new FakeClock();
    const p = new InMemoryWorkflowPersistence({ clock });
    const base = { workflowId: "wf", workflowName: "wf", workflowType: "wf", input: {}, config: {}, priority: 5 };
    await p.createRun({ ...base, id: "kept", status: "RUNNING" });
    await p.createStage({ workflowRunId: "kept", stageId: "s", stageName: "s", stageNumber: 0, executionGroup: 0, status: "PENDING" });
    const before = await p.getRun("kept");

    await expect(
      p.withTransaction(async (tx) => {
        await tx.createRun({ ...base, id: "lost", status: "RUNNING" });
        await tx.updateRun("kept", { status: "FAILED", addCost: 5 });
        await tx.updateStage("kept", "s", { status: "COMPLETED", attempt: 1 });
        await tx.deleteStage("kept", "s");
        await tx.appendOutboxEvents([{ workflowRunId: "kept", eventType: "x", payload: {}, causationId: "c", occurredAt: clock.now() }]);
        await tx.acquireIdempotencyKey("key", "run.create", { now: clock.now(), staleAfterMs: 1000 });
        await tx.tryAcquireLock("lock", "owner-a", { now: clock.now(), ttlMs: 60_000 });
        await tx.createLogs([{ workflowRunId: "kept", level: "INFO", message: "m" }]);
        throw new Boom("rolled back");
      }),
    ).rejects.toThrow(Boom);

    expect(await p.getRun("lost")).toBeNull();
    expect(await p.getRun("kept")).toEqual(before);
    expect(await p.getRunsByStatus("FAILED")).toEqual([]);
    expect((await p.getRunsByStatus("RUNNING")).map((r) => r.id)).toEqual(["kept"]);
    expect(await p.getStage("kept", "s")).toMatchObject({ status: "PENDING", attempt: 0 });
    expect(await p.getOutboxEventsByRun("kept")).toEqual([]);
    expect(await p.getUnpublishedOutboxEvents(10)).toEqual([]);
    expect(await p.getLogsByRun("kept")).toEqual([]);
    expect(await p.acquireIdempotencyKey("key", "run.create", { now: clock.now(), staleAfterMs: 1000 })).toEqual({ status: "acquired" });
    expect(await p.tryAcquireLock("lock", "owner-b", { now: clock.now(), ttlMs: 60_000 })).toBe(true);
    // Sequence numbers continue without the rolled-back event's number.
    const [event] = await p.appendOutboxEvents([{ workflowRunId: "kept", eventType: "y", payload: {}, causationId: "c", occurredAt: clock.now() }]);
    expect(event?.sequence).toBe(1);
  });

  it("a conflicting conditional write throws and leaves the record unchanged", async () => {
    const p = new InMemoryWorkflowPersistence({ clock: new FakeClock() });
    const run = await p.createRun({ id: "r", workflowId: "wf", workflowName: "wf", workflowType: "wf", status: "RUNNING", input: {}, config: {}, priority: 5 });
    await p.updateRun("r", { expectedVersion: run.version, currentGroup: 1 });
    await expect(p.updateRun("r", { expectedVersion: run.version, currentGroup: 2 })).rejects.toThrow(/changed/);
    expect((await p.getRun("r"))?.currentGroup).toBe(1);
  });

  it("query cost does not grow with stored runs: 10,000 finished runs are never scanned", async () => {
    const clock = new FakeClock();
    const p = new InMemoryWorkflowPersistence({ clock });
    const base = { workflowId: "wf", workflowName: "wf", workflowType: "wf", input: {}, config: {}, priority: 5 };
    for (let i = 0; i < 10_000; i++) {
      await p.withTransaction(async (tx) => {
        await tx.createRun({ ...base, id: `done-${i}`, status: "COMPLETED" });
        await tx.createStage({ workflowRunId: `done-${i}`, stageId: "s", stageName: "s", stageNumber: 0, executionGroup: 0, status: "COMPLETED" });
        const events = await tx.appendOutboxEvents([{ workflowRunId: `done-${i}`, eventType: "e", payload: {}, causationId: "c", occurredAt: clock.now() }]);
        await tx.markOutboxEventsPublished(events.map((e) => ({ workflowRunId: e.workflowRunId, sequence: e.sequence })), clock.now());
      });
    }
    for (let i = 0; i < 3; i++) {
      await p.createRun({ ...base, id: `live-${i}`, status: "RUNNING" });
      await p.createStage({ workflowRunId: `live-${i}`, stageId: "s", stageName: "s", stageNumber: 0, executionGroup: 0, status: "PENDING" });
      await p.appendOutboxEvents([{ workflowRunId: `live-${i}`, eventType: "e", payload: {}, causationId: "c", occurredAt: clock.now() }]);
    }
    await p.updateStage("live-0", "s", { status: "SUSPENDED", nextPollAt: clock.now() });
    await p.updateStage("live-1", "s", { status: "RUNNING", leaseExpiresAt: clock.now() });

    const store = (p as unknown as { store: StoreInternals }).store;
    const runs = (store.runs = new CountingMap(store.runs));
    const slots = (store.slots = new CountingMap(store.slots));

    expect((await p.getRunsByStatus("RUNNING")).map((r) => r.id).sort()).toEqual(["live-0", "live-1", "live-2"]);
    expect((await p.getRunsByStatus("RUNNING", { updatedBefore: clock.now(), limit: 1 })).length).toBe(0);
    expect((await p.getSuspendedStagesDue(clock.now(), 10)).map((s) => s.workflowRunId)).toEqual(["live-0"]);
    expect((await p.getStagesWithExpiredLease(clock.now(), 10)).map((s) => s.workflowRunId)).toEqual(["live-1"]);
    expect((await p.getUnpublishedOutboxEvents(100)).map((e) => e.workflowRunId).sort()).toEqual(["live-0", "live-1", "live-2"]);
    expect((await p.listRuns({ status: "RUNNING" })).runs).toHaveLength(3);

    expect(runs.scans + slots.scans).toBe(0);
    expect(runs.gets).toBeLessThanOrEqual(20);
    expect(slots.gets).toBeLessThanOrEqual(10);
  });
});

describe("in-memory adapters use the injected clock", () => {
  it("every time a run leaves behind comes from the kernel's clock, never the wall clock", async () => {
    const logger = new InMemoryAICallLogger({ clock: new FakeClock(Date.UTC(2030, 0, 1)) });
    const stage = defineStage({
      id: "timed",
      name: "Timed",
      schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
      async execute(ctx) {
        ctx.log("INFO", "working");
        await ctx.aiCallLogger?.logCall({
          topic: ctx.aiTopic, callType: "text", modelKey: "m", modelId: "m", prompt: "p", response: "r", inputTokens: 1, outputTokens: 1, cost: 0.001,
        });
        return { output: {} };
      },
    });
    const workflow = new WorkflowBuilder("timed", "Timed", "", z.object({}), z.unknown()).pipe(stage).build();
    const h = createHarness([workflow], { aiCallLogger: logger });
    const start = h.clock.now().getTime();
    const runId = await h.start("timed", {});
    await h.clock.tick(5000);
    const jobs = await h.queue.getJobsByWorkflowRun(runId);
    await h.runNextJob();
    await h.kernel.dispatch({ type: "outbox.flush" });

    const end = h.clock.now().getTime();
    const dates: Date[] = [];
    const collect = (value: unknown): void => {
      if (value instanceof Date) dates.push(value);
      else if (value && typeof value === "object") Object.values(value).forEach(collect);
    };
    collect(await h.persistence.getRun(runId));
    collect(await h.persistence.getStagesByRun(runId));
    collect(await h.persistence.getLogsByRun(runId));
    collect(await h.persistence.getOutboxEventsByRun(runId));
    collect(jobs);
    collect(logger.getCalls());
    expect(dates.length).toBeGreaterThan(10);
    for (const date of dates) {
      expect(date.getTime()).toBeGreaterThanOrEqual(start);
      expect(date.getTime()).toBeLessThanOrEqual(end);
    }
    expect((await h.persistence.getRun(runId))?.completedAt?.getTime()).toBe(start + 5000);
    for (const event of h.sink.forRun(runId)) expect(Date.parse(event.timestamp)).toBeGreaterThanOrEqual(start);
  });

  it("the job queue delivers scheduled jobs by the injected clock", async () => {
    const clock = new FakeClock();
    const queue = new InMemoryJobQueue({ clock });
    await queue.enqueue({ workflowRunId: "r", workflowId: "w", stageId: "s", attempt: 1, scheduledFor: new Date(clock.now().getTime() + 1000) });
    expect(await queue.dequeue()).toBeNull();
    clock.advance(1000);
    expect(await queue.dequeue()).toMatchObject({ workflowRunId: "r", stageId: "s" });
  });
});
