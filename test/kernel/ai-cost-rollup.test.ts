import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder, type StageContext } from "../../engine/index.js";
import { FakeClock } from "../../engine/kernel/testing/index.js";
import { InMemoryAICallLogger } from "../../engine/testing/index.js";
import { createHarness } from "../support/kernel-harness.js";

async function logCall(ctx: StageContext<unknown, unknown>, cost: number, inputTokens: number, outputTokens: number) {
  await ctx.aiCallLogger!.logCall({
    topic: ctx.aiTopic,
    callType: "text",
    modelKey: "local/fast",
    modelId: "fast",
    prompt: "p",
    response: "r",
    inputTokens,
    outputTokens,
    cost,
  });
}

function costlyWorkflow() {
  let failNextSummarize = true;
  const extract = defineStage({
    id: "extract",
    name: "Extract",
    schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
    async execute(ctx) {
      await logCall(ctx, 0.01, 100, 20);
      return { output: {} };
    },
  });
  const summarize = defineStage({
    id: "summarize",
    name: "Summarize",
    retry: { maxAttempts: 3, initialDelayMs: 100 },
    schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
    async execute(ctx) {
      await logCall(ctx, 0.02, 200, 40);
      if (failNextSummarize) {
        failNextSummarize = false;
        throw new Error("rate limited after the call was billed");
      }
      return { output: {} };
    },
  });
  // Its id starts like "summarize": its calls must not count towards that stage.
  const summarizeTitle = defineStage({
    id: "summarize-title",
    name: "Summarize title",
    schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
    async execute(ctx) {
      await logCall(ctx, 0.005, 10, 5);
      await logCall(ctx, 0.005, 10, 5);
      return { output: {} };
    },
  });
  const workflow = new WorkflowBuilder("costly", "Costly", "", z.object({}), z.unknown()).pipe(extract).parallel([summarize, summarizeTitle]).build();
  return workflow;
}

describe("AI cost roll-up", () => {
  it("stage metrics and run totals equal the sum of logged calls, across a retry and a rerun", async () => {
    const clock = new FakeClock();
    const logger = new InMemoryAICallLogger({ clock });
    const h = createHarness([costlyWorkflow()], { aiCallLogger: logger });
    const runId = await h.start("costly", {});
    await h.drain();
    await h.clock.tick(1000);
    await h.drain();

    const expectTotalsMatchLogger = async () => {
      const run = await h.persistence.getRun(runId);
      expect(run?.status).toBe("COMPLETED");
      const all = await logger.getStats(`workflow.${runId}`);
      expect(run?.totalCost).toBeCloseTo(all.totalCost, 10);
      expect(run?.totalTokens).toBe(all.totalTokens);
      for (const stage of await h.persistence.getStagesByRun(runId)) {
        const stats = await logger.getStats(`workflow.${runId}.stage.${stage.stageId}`);
        expect(stage.metrics?.totalCost, stage.stageId).toBeCloseTo(stats.totalCost, 10);
        expect(stage.metrics?.totalTokens, stage.stageId).toBe(stats.totalTokens);
      }
      return run!;
    };

    const run = await expectTotalsMatchLogger();
    // extract 0.01 + summarize (failed attempt 0.02 + successful 0.02) + summarize-title 2 x 0.005
    expect(run.totalCost).toBeCloseTo(0.06, 10);
    expect(run.totalTokens).toBe(120 + 2 * 240 + 2 * 15);
    expect((await h.persistence.getStage(runId, "summarize"))?.metrics?.totalCost).toBeCloseTo(0.04, 10);
    expect((await h.persistence.getStage(runId, "summarize-title"))?.metrics?.totalCost).toBeCloseTo(0.01, 10);
    await h.kernel.dispatch({ type: "outbox.flush" });
    expect(h.sink.getByType("workflow:completed")[0]?.totalCost).toBeCloseTo(0.06, 10);

    await h.kernel.dispatch({ type: "run.rerunFrom", workflowRunId: runId, fromStageId: "summarize" });
    await h.drain();
    const rerun = await expectTotalsMatchLogger();
    expect(rerun.totalCost).toBeCloseTo(0.06 + 0.02 + 0.01, 10);
  });

  it("stages without an AI-call logger end with zero cost", async () => {
    const h = createHarness([
      new WorkflowBuilder("free", "Free", "", z.object({}), z.unknown())
        .pipe(defineStage({ id: "free", name: "Free", schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) }, execute: async () => ({ output: {} }) }))
        .build(),
    ]);
    const runId = await h.start("free", {});
    await h.drain();
    expect(await h.persistence.getRun(runId)).toMatchObject({ totalCost: 0, totalTokens: 0 });
  });
});
