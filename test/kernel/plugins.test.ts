import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createPluginRunner, definePlugin, defineStage, WorkflowBuilder } from "../../engine/index.js";
import type { PublishedEvent } from "../../engine/kernel/index.js";
import { CollectingEventSink } from "../../engine/kernel/testing/index.js";
import { createHarness } from "../support/kernel-harness.js";

const only = defineStage({
  id: "only",
  name: "Only",
  schemas: { input: z.unknown(), output: z.object({ ok: z.boolean() }), config: z.object({}) },
  execute: async () => ({ output: { ok: true } }),
});
const workflow = new WorkflowBuilder("plugged", "Plugged", "", z.object({}), z.unknown()).pipe(only).build();

describe("plugins", () => {
  it("definePlugin requires an id and the event types it handles", () => {
    expect(() => definePlugin({ id: "", on: ["workflow:completed"], handle: () => undefined })).toThrow(/needs an id/);
    expect(() => definePlugin({ id: "p", on: [], handle: () => undefined })).toThrow(/must list the event types/);
  });

  it("receive only the event types they subscribed to, after the inner sink", async () => {
    const inner = new CollectingEventSink();
    const seen: string[] = [];
    const completed = definePlugin({
      id: "on-complete",
      on: ["workflow:completed"],
      handle(event) {
        seen.push(`${event.type}:${event.totalCost}:${inner.events.length}`);
      },
    });
    const h = createHarness([workflow], { eventSink: createPluginRunner({ plugins: [completed], sink: inner }) });
    const runId = await h.start("plugged", {});
    await h.drain();
    await h.kernel.dispatch({ type: "outbox.flush" });
    const total = inner.forRun(runId).length;
    expect(seen).toEqual([`workflow:completed:0:${total}`]);
  });

  it("a failing plugin makes the flush retry the event, counting retries, until it succeeds", async () => {
    let failures = 2;
    const handled: PublishedEvent[] = [];
    const flaky = definePlugin({
      id: "flaky",
      on: ["workflow:completed"],
      handle(event) {
        if (failures-- > 0) throw new Error("webhook down");
        handled.push(event);
      },
    });
    const h = createHarness([workflow], { eventSink: createPluginRunner({ plugins: [flaky] }) });
    const runId = await h.start("plugged", {});
    await h.drain();
    const first = await h.kernel.dispatch({ type: "outbox.flush" });
    expect(first.failed).toBe(1);
    const completedEvent = (await h.persistence.getOutboxEventsByRun(runId)).find((e) => e.eventType === "workflow:completed")!;
    const retryCountOf = async () => (await h.persistence.getOutboxEventsByRun(runId)).find((e) => e.sequence === completedEvent.sequence)!.retryCount;
    expect(await retryCountOf()).toBe(1);
    await h.kernel.dispatch({ type: "outbox.flush" });
    expect(await retryCountOf()).toBe(2);
    await h.kernel.dispatch({ type: "outbox.flush" });
    expect(handled.map((e) => e.eventId)).toEqual([completedEvent.id]);
    expect(await h.persistence.getUnpublishedOutboxEvents(10)).toEqual([]);
  });

  it("an event a plugin keeps failing on is dead-lettered, and plugin.replayDLQ gives the plugin another go", async () => {
    let broken = true;
    const handled: string[] = [];
    const plugin = definePlugin({
      id: "search-index",
      on: ["stage:completed"],
      handle(event) {
        if (broken) throw new Error("index offline");
        handled.push(event.stageId);
      },
    });
    const h = createHarness([workflow], { eventSink: createPluginRunner({ plugins: [plugin] }), outboxMaxRetries: 2 });
    await h.start("plugged", {});
    await h.drain();
    await h.kernel.dispatch({ type: "outbox.flush" });
    const second = await h.kernel.dispatch({ type: "outbox.flush" });
    expect(second.deadLettered).toBe(1);
    expect((await h.persistence.getDLQOutboxEvents(10)).map((e) => e.eventType)).toEqual(["stage:completed"]);

    broken = false;
    expect(await h.kernel.dispatch({ type: "plugin.replayDLQ" })).toEqual({ replayed: 1 });
    await h.kernel.dispatch({ type: "outbox.flush" });
    expect(handled).toEqual(["only"]);
    expect(await h.persistence.getDLQOutboxEvents(10)).toEqual([]);
  });
});
