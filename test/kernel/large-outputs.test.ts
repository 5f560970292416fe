import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import { isBlobReference, resolveStoredValue } from "../../engine/kernel/index.js";
import { createHarness } from "../support/kernel-harness.js";

const LIMIT = 4 * 1024;
const Big = z.object({ rows: z.array(z.string()) });

const produce = defineStage({
  id: "produce",
  name: "Produce",
  schemas: { input: z.object({ rows: z.number() }), output: Big, config: z.object({}) },
  execute: async (ctx) => ({ output: { rows: Array.from({ length: ctx.input.rows }, (_, i) => `row-${i}-${"x".repeat(90)}`) } }),
});
const measure = defineStage({
  id: "measure",
  name: "Measure",
  dependencies: [produce],
  schemas: { input: Big, output: z.object({ rows: z.number(), viaRequire: z.number(), last: z.string() }), config: z.object({}) },
  execute: async (ctx) => ({
    output: { rows: ctx.input.rows.length, viaRequire: ctx.require("produce").rows.length, last: ctx.input.rows.at(-1) ?? "" },
  }),
});
const echoBig = defineStage({
  id: "echo-big",
  name: "Echo big",
  schemas: { input: z.unknown(), output: z.unknown(), config: z.object({}) },
  execute: async (ctx) => ({ output: ctx.input }),
});

describe("outputs of any size", () => {
  it("stay inline when small", async () => {
    const workflow = new WorkflowBuilder("sizes", "Sizes", "", z.object({ rows: z.number() }), z.unknown()).pipe(produce).pipe(measure).build();
    const h = createHarness([workflow], { inlineOutputLimitBytes: LIMIT });
    const runId = await h.start("sizes", { rows: 3 });
    await h.drain();
    expect(isBlobReference((await h.persistence.getStage(runId, "produce"))?.outputData)).toBe(false);
    expect(h.blobStore.size).toBe(0);
  });

  it("above the inline limit move to the BlobStore, and the next stage reads them whole", async () => {
    const workflow = new WorkflowBuilder("sizes", "Sizes", "", z.object({ rows: z.number() }), z.unknown()).pipe(produce).pipe(measure).build();
    const h = createHarness([workflow], { inlineOutputLimitBytes: LIMIT });
    const runId = await h.start("sizes", { rows: 2000 });
    await h.drain();
    const stored = (await h.persistence.getStage(runId, "produce"))?.outputData;
    expect(isBlobReference(stored)).toBe(true);
    if (!isBlobReference(stored)) return;
    expect(stored.size).toBeGreaterThan(LIMIT);
    expect(await h.blobStore.has(stored.$blob)).toBe(true);
    expect(await h.persistence.getRun(runId)).toMatchObject({
      status: "COMPLETED",
      output: { rows: 2000, viaRequire: 2000, last: `row-1999-${"x".repeat(90)}` },
    });
  });

  it("a large run input and a large final output are stored by reference and read back transparently", async () => {
    const workflow = new WorkflowBuilder("big-io", "Big IO", "", z.unknown(), z.unknown()).pipe(echoBig).build();
    const h = createHarness([workflow], { inlineOutputLimitBytes: LIMIT });
    const input = { text: "z".repeat(3 * LIMIT) };
    const runId = await h.start("big-io", input);
    await h.drain();
    const run = await h.persistence.getRun(runId);
    expect(run?.status).toBe("COMPLETED");
    expect(isBlobReference(run?.input)).toBe(true);
    expect(isBlobReference(run?.output)).toBe(true);
    const deps = h.kernel.config;
    expect(await resolveStoredValue(deps, run?.output)).toEqual(input);
  });
});
