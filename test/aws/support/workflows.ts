/** Workflows the AWS tests and the crash-safety workers run. */
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../../engine/index.js";
import type { Workflow } from "../../../engine/core/workflow.js";

const step = (id: string, delayMs: number) =>
  defineStage({
    id,
    name: `Step ${id}`,
    schemas: { input: z.object({ n: z.number() }), output: z.object({ n: z.number(), by: z.string() }), config: z.object({}) },
    async execute(ctx) {
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs * (0.5 + Math.random())));
      return { output: { n: ctx.input.n + 1, by: process.env.STAGEFLOW_WORKER_ID ?? String(process.pid) } };
    },
  });

/** Five stages in a row; each adds one, so a finished run's output is input + 5. */
export function fiveStageWorkflow(delayMs = 20): Workflow {
  let builder = new WorkflowBuilder("five-steps", "Five steps", "Linear", z.object({ n: z.number() }), z.object({ n: z.number(), by: z.string() })).pipe(step("s1", delayMs));
  for (const id of ["s2", "s3", "s4", "s5"]) builder = builder.pipe(step(id, delayMs)) as unknown as typeof builder;
  return builder.build() as unknown as Workflow;
}

/** A sized output: `bytes` of JSON. */
const blobStage = (id: string, bytes: number) =>
  defineStage({
    id,
    name: `Produce ${bytes} bytes`,
    schemas: { input: z.object({ seed: z.string() }), output: z.object({ seed: z.string(), data: z.string() }), config: z.object({}) },
    async execute(ctx) {
      return { output: { seed: ctx.input.seed, data: ctx.input.seed.repeat(Math.ceil(bytes / ctx.input.seed.length)).slice(0, bytes) } };
    },
  });

const measure = defineStage({
  id: "measure",
  name: "Measure previous outputs",
  dependencies: [blobStage("one-mb", 1024 * 1024), blobStage("ten-mb", 10 * 1024 * 1024)],
  schemas: { input: "none", output: z.object({ oneMb: z.number(), tenMb: z.number(), sameSeed: z.boolean() }), config: z.object({}) },
  async execute(ctx) {
    const one = ctx.require("one-mb") as { seed: string; data: string };
    const ten = ctx.require("ten-mb") as { seed: string; data: string };
    return { output: { oneMb: one.data.length, tenMb: ten.data.length, sameSeed: one.seed === ten.seed } };
  },
});

/** A 1 MB stage, then a 10 MB stage, then one that reads both back. */
export function largeOutputWorkflow(): Workflow {
  return new WorkflowBuilder("large-outputs", "Large outputs", "Blobs", z.object({ seed: z.string() }), z.object({ oneMb: z.number(), tenMb: z.number(), sameSeed: z.boolean() }))
    .pipe(blobStage("one-mb", 1024 * 1024))
    .pipe(blobStage("ten-mb", 10 * 1024 * 1024) as never)
    .pipe(measure as never)
    .build() as unknown as Workflow;
}
