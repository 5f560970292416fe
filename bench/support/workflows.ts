import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import type { Workflow } from "../../engine/core/workflow.js";

const Value = z.object({ n: z.number() });

/** A stage that does nothing but hand its input on (no I/O, no timers). */
function noopStage(id: string) {
  return defineStage({
    id,
    name: id,
    schemas: { input: Value, output: Value, config: z.object({}) },
    async execute(ctx) {
      return { output: { n: ctx.input.n } };
    },
  });
}

/** `stages` no-op stages one after another. */
export function linearWorkflow(stages: number): Workflow {
  let builder = new WorkflowBuilder("bench-linear", "Bench linear", `${stages} no-op stages in a row`, Value, Value);
  for (let i = 1; i <= stages; i++) builder = builder.pipe(noopStage(`step-${i}`)) as unknown as typeof builder;
  return builder.build() as unknown as Workflow;
}

/** One stage, a parallel group of `width` stages, one stage that reads the group's map. */
export function fanOutWorkflow(width: number): Workflow {
  const fan = Array.from({ length: width }, (_, i) => noopStage(`fan-${i + 1}`));
  const join = defineStage({
    id: "join",
    name: "join",
    schemas: { input: z.record(z.string(), Value), output: Value, config: z.object({}) },
    async execute(ctx) {
      let n = 0;
      for (const value of Object.values(ctx.input)) n += value.n;
      return { output: { n } };
    },
  });
  return new WorkflowBuilder("bench-fan-out", "Bench fan-out", `1 + parallel(${width}) + 1 no-op stages`, Value, Value)
    .pipe(noopStage("first"))
    .parallel(fan)
    .pipe(join)
    .build() as unknown as Workflow;
}

export function stageCount(workflow: Workflow): number {
  return workflow.stages.length;
}
