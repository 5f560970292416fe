import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import { createHarness, flushAll } from "../support/kernel-harness.js";

const double = defineStage({
  id: "double",
  name: "Double",
  schemas: { input: z.object({ n: z.number() }), output: z.object({ n: z.number() }), config: z.object({}) },
  async execute(ctx) {
    return { output: { n: ctx.input.n * 2 } };
  },
});
const square = defineStage({
  id: "square",
  name: "Square",
  schemas: { input: z.object({ n: z.number() }), output: z.object({ sq: z.number() }), config: z.object({}) },
  async execute(ctx) {
    return { output: { sq: ctx.input.n ** 2 } };
  },
});
const plusOne = defineStage({
  id: "plus-one",
  name: "Plus one",
  schemas: { input: z.object({ n: z.number() }), output: z.object({ p: z.number() }), config: z.object({ by: z.number().default(1) }) },
  async execute(ctx) {
    return { output: { p: ctx.input.n + ctx.config.by } };
  },
});
const sum = defineStage({
  id: "sum",
  name: "Sum",
  dependencies: [square, plusOne],
  schemas: { input: "none", output: z.object({ total: z.number() }), config: z.object({}) },
  async execute(ctx) {
    return { output: { total: ctx.require("square").sq + ctx.require("plus-one").p } };
  },
});

const workflow = new WorkflowBuilder("math", "Math", "Numbers", z.object({ n: z.number() }), z.object({ total: z.number() }))
  .pipe(double)
  .parallel([square, plusOne])
  .pipe(sum)
  .build();

describe("a run from create to completion", () => {
  it("runs sequential and parallel groups and stores the final group's output on the run", async () => {
    const h = createHarness([workflow]);
    const runId = await h.start("math", { n: 3 }, { config: { "plus-one": { by: 10 } } });
    await h.drain();
    const run = await h.persistence.getRun(runId);
    expect(run?.status).toBe("COMPLETED");
    expect(run?.output).toEqual({ total: 36 + 16 });
    await flushAll(h);
    const types = h.sink.forRun(runId).map((e) => e.type);
    expect(types[0]).toBe("workflow:created");
    expect(types.at(-1)).toBe("workflow:completed");
    expect(h.sink.forRun(runId).map((e) => e.sequence)).toEqual(types.map((_, i) => i + 1));
  });
});
