import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import type { EmitBatchResult, EventSink, PublishedEvent } from "../../engine/kernel/index.js";
import { createHarness } from "../support/kernel-harness.js";

const step = (id: string) =>
  defineStage({
    id,
    name: id,
    schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
    async execute(ctx) {
      ctx.onProgress({ progress: 0.5, message: "half way" });
      return { output: {} };
    },
  });
const workflow = new WorkflowBuilder("events", "Events", "", z.object({}), z.unknown()).pipe(step("a")).parallel([step("b"), step("c")]).pipe(step("d")).build();

/** A sink that takes a turn of the event loop per batch (so flushes could overlap) and can refuse chosen events. */
class ControlledSink implements EventSink {
  readonly published: PublishedEvent[] = [];
  refuse: (event: PublishedEvent) => boolean = () => false;

  async emit(event: PublishedEvent): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.refuse(event)) throw new Error(`sink refused ${event.eventId}`);
    this.published.push(event);
  }

  async emitBatch(events: PublishedEvent[]): Promise<EmitBatchResult> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const failed: EmitBatchResult["failed"] = [];
    // Like the EventBridge sink: after a run's event failed, its later events are held back.
    const blockedRuns = new Set<string>();
    events.forEach((event, index) => {
      if (blockedRuns.has(event.workflowRunId) || this.refuse(event)) {
        blockedRuns.add(event.workflowRunId);
        failed.push({ index, error: `sink refused ${event.eventId}` });
      } else this.published.push(event);
    });
    return { failed };
  }

  forRun(runId: string): number[] {
    return this.published.filter((e) => e.workflowRunId === runId).map((e) => e.sequence);
  }
}

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

async function completedRuns(count: number, sink: EventSink, outboxMaxRetries = 5) {
  const h = createHarness([workflow], { eventSink: sink, outboxMaxRetries });
  const runIds: string[] = [];
  for (let i = 0; i < count; i++) runIds.push(await h.start("events", {}));
  await h.drain();
  return { h, runIds };
}

describe("the outbox", () => {
  it("numbers each run's events 1, 2, 3, ... without gaps, in the order of the state changes", async () => {
    const sink = new ControlledSink();
    const { h, runIds } = await completedRuns(3, sink);
    await h.kernel.dispatch({ type: "outbox.flush" });
    for (const runId of runIds) {
      const stored = await h.persistence.getOutboxEventsByRun(runId);
      expect(stored.map((e) => e.sequence)).toEqual(oneToN(stored.length));
      expect(stored.map((e) => e.id)).toEqual(stored.map((e) => `${runId}:${e.sequence}`));
      expect(sink.forRun(runId)).toEqual(oneToN(stored.length));
      const types = stored.map((e) => e.eventType);
      expect(types.slice(0, 3)).toEqual(["workflow:created", "workflow:started", "stage:started"]);
      expect(types.indexOf("stage:progress")).toBeLessThan(types.indexOf("stage:completed"));
      expect(types.at(-1)).toBe("workflow:completed");
    }
  });

  it("never publishes an event twice when two flushes run at the same time", async () => {
    const sink = new ControlledSink();
    const { h } = await completedRuns(5, sink);
    const total = (await h.persistence.getUnpublishedOutboxEvents(10_000)).length;
    const results = await Promise.all([
      h.kernel.dispatch({ type: "outbox.flush" }),
      h.kernel.dispatch({ type: "outbox.flush" }),
      h.kernel.dispatch({ type: "outbox.flush" }),
    ]);
    expect(results.reduce((sum, r) => sum + r.published, 0)).toBe(total);
    expect(sink.published).toHaveLength(total);
    expect(new Set(sink.published.map((e) => e.eventId)).size).toBe(total);
  });

  it("holds back a run's later events while one of its events fails, and lets other runs through", async () => {
    const sink = new ControlledSink();
    const { h, runIds } = await completedRuns(2, sink);
    const [stuck, healthy] = runIds as [string, string];
    sink.refuse = (e) => e.workflowRunId === stuck && e.sequence === 3;

    const first = await h.kernel.dispatch({ type: "outbox.flush" });
    expect(first.failed).toBe(1);
    expect(sink.forRun(stuck)).toEqual([1, 2]);
    const healthyCount = (await h.persistence.getOutboxEventsByRun(healthy)).length;
    expect(sink.forRun(healthy)).toEqual(oneToN(healthyCount));
    expect((await h.persistence.getOutboxEventsByRun(stuck, { afterSequence: 2, limit: 1 }))[0]?.retryCount).toBe(1);

    await h.kernel.dispatch({ type: "outbox.flush" });
    expect(sink.forRun(stuck)).toEqual([1, 2]);

    sink.refuse = () => false;
    await h.kernel.dispatch({ type: "outbox.flush" });
    const stuckCount = (await h.persistence.getOutboxEventsByRun(stuck)).length;
    expect(sink.forRun(stuck)).toEqual(oneToN(stuckCount));
    expect(await h.persistence.getUnpublishedOutboxEvents(100)).toEqual([]);
  });

  it("dead-letters an event after outboxMaxRetries and plugin.replayDLQ publishes it again", async () => {
    const sink = new ControlledSink();
    const { h, runIds } = await completedRuns(1, sink, 3);
    const runId = runIds[0]!;
    sink.refuse = (e) => e.sequence === 2;

    const flushes = [];
    for (let i = 0; i < 3; i++) flushes.push(await h.kernel.dispatch({ type: "outbox.flush" }));
    expect(flushes.map((f) => f.deadLettered)).toEqual([0, 0, 1]);
    const dlq = await h.persistence.getDLQOutboxEvents(10);
    expect(dlq.map((e) => [e.sequence, e.retryCount])).toEqual([[2, 3]]);

    sink.refuse = () => false;
    expect(await h.kernel.dispatch({ type: "plugin.replayDLQ" })).toEqual({ replayed: 1 });
    expect(await h.persistence.getDLQOutboxEvents(10)).toEqual([]);
    await h.kernel.dispatch({ type: "outbox.flush" });
    expect(sink.forRun(runId).filter((s) => s === 2)).toEqual([2]);
    expect(new Set(sink.forRun(runId)).size).toBe((await h.persistence.getOutboxEventsByRun(runId)).length);
    expect(await h.persistence.getUnpublishedOutboxEvents(100)).toEqual([]);
  });

  it("publishes through emit() in order when the sink has no batch form", async () => {
    const published: PublishedEvent[] = [];
    let refuseOnce = true;
    const sink: EventSink = {
      async emit(event) {
        if (event.sequence === 4 && refuseOnce) {
          refuseOnce = false;
          throw new Error("flaky");
        }
        published.push(event);
      },
    };
    const { h, runIds } = await completedRuns(1, sink);
    await h.kernel.dispatch({ type: "outbox.flush" });
    expect(published.map((e) => e.sequence)).toEqual([1, 2, 3]);
    await h.kernel.dispatch({ type: "outbox.flush" });
    const count = (await h.persistence.getOutboxEventsByRun(runIds[0]!)).length;
    expect(published.map((e) => e.sequence)).toEqual(oneToN(count));
    expect(published[0]).toMatchObject({ eventId: `${runIds[0]}:1`, type: "workflow:created", workflowRunId: runIds[0] });
  });
});
