import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import { createHarness } from "../support/kernel-harness.js";

const noop = defineStage({
  id: "noop",
  name: "No-op",
  schemas: { input: z.object({}), output: z.object({}), config: z.object({}) },
  async execute() {
    return { output: {} };
  },
});
const workflow = new WorkflowBuilder("noop", "No-op", "", z.object({}), z.object({})).pipe(noop).build();

describe("outbox.flush as a backstop", () => {
  it("publishes only events older than minAgeMs, keeping each run's order", async () => {
    const h = createHarness([workflow]);
    const first = await h.start("noop", {});
    h.clock.advance(30_000);
    const second = await h.start("noop", {});
    const early = await h.kernel.dispatch({ type: "outbox.flush", minAgeMs: 20_000 });
    expect(early.published).toBe(2);
    expect(h.sink.events.map((e) => e.workflowRunId)).toEqual([first, first]);
    h.clock.advance(30_000);
    await h.kernel.dispatch({ type: "outbox.flush", minAgeMs: 20_000 });
    expect(h.sink.forRun(second).map((e) => e.sequence)).toEqual([1, 2]);
  });
});
