import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder, type StageLike } from "../../engine/index.js";
import { createHarness } from "../support/kernel-harness.js";

const Blob = z.object({ data: z.string() });

function chain(length: number, declareDependencies: boolean) {
  const stages: StageLike[] = [];
  for (let i = 0; i < length; i++) {
    const previous = stages[i - 1];
    stages.push(
      defineStage({
        id: `step-${i}`,
        name: `Step ${i}`,
        dependencies: declareDependencies && previous ? [previous.id] : [],
        schemas: { input: i === 0 ? z.object({}) : Blob, output: Blob, config: z.object({}) },
        async execute() {
          return { output: { data: "x".repeat(1_000) } };
        },
      }),
    );
  }
  let builder = new WorkflowBuilder(`chain-${declareDependencies}`, "Chain", "", z.object({}), Blob) as unknown as {
    pipe(s: StageLike): typeof builder;
    build(): ReturnType<WorkflowBuilder<unknown, unknown>["build"]>;
  };
  for (const stage of stages) builder = builder.pipe(stage);
  return builder.build();
}

describe("reading earlier outputs kept in the blob store", () => {
  it("costs one read per stage when stages declare their dependencies, not one per earlier stage", async () => {
    const workflow = chain(8, true);
    const h = createHarness([workflow], { inlineOutputLimitBytes: 100 });
    const reads = vi.spyOn(h.blobStore, "get");
    const runId = await h.start(workflow.id, {});
    await h.drain();
    expect((await h.persistence.getRun(runId))?.status).toBe("COMPLETED");
    // Each of steps 1..7 reads its input once; nothing reads the older outputs again.
    expect(reads).toHaveBeenCalledTimes(7);
  });

  it("gives a clear error when a stage requires a large output it did not declare", async () => {
    const first = defineStage({
      id: "first",
      name: "First",
      schemas: { input: z.object({}), output: Blob, config: z.object({}) },
      async execute() {
        return { output: { data: "x".repeat(1_000) } };
      },
    });
    const second = defineStage({
      id: "second",
      name: "Second",
      dependencies: ["first"],
      schemas: { input: Blob, output: Blob, config: z.object({}) },
      async execute(ctx) {
        return { output: ctx.input };
      },
    });
    const third = defineStage({
      id: "third",
      name: "Third",
      dependencies: ["second"],
      retry: { maxAttempts: 1 },
      schemas: { input: "none", output: Blob, config: z.object({}) },
      async execute(ctx) {
        return { output: ctx.require("first" as never) as { data: string } };
      },
    });
    const workflow = new WorkflowBuilder("undeclared", "", "", z.object({}), Blob).pipe(first).pipe(second).pipe(third).build();
    const h = createHarness([workflow], { inlineOutputLimitBytes: 100 });
    const runId = await h.start(workflow.id, {});
    await h.drain();
    const stage = await h.persistence.getStage(runId, "third");
    expect(stage?.status).toBe("FAILED");
    expect(stage?.errorMessage).toMatch(/add it to the stage's dependencies/);
  });
});
