import { describe, expect, it } from "vitest";
import { stageTopic, type CreateAICallInput } from "../../engine/core/ai-call-logger.js";
import { InMemoryAICallLogger } from "../../engine/testing/in-memory-ai-call-logger.js";

function call(topic: string, cost: number, tokens = { input: 10, output: 5 }, modelKey = "local/fast"): CreateAICallInput {
  return { topic, callType: "generateText", modelKey, modelId: "fast", prompt: "p", response: "r", inputTokens: tokens.input, outputTokens: tokens.output, cost };
}

describe("InMemoryAICallLogger", () => {
  it("aggregates a run and each of its stages by topic prefix", async () => {
    const logger = new InMemoryAICallLogger();
    logger.logCall(call(stageTopic("run-1", "extract"), 0.01));
    logger.logCall(call(stageTopic("run-1", "summarize"), 0.02, { input: 100, output: 50 }, "openai/gpt-4.1-mini"));
    logger.logCall(call(stageTopic("run-1", "summarize"), 0.03));
    logger.logCall(call(stageTopic("run-2", "extract"), 5));

    const run = await logger.getStats("workflow.run-1");
    const summarize = await logger.getStats(stageTopic("run-1", "summarize"));

    expect(run).toMatchObject({ totalCalls: 3, totalInputTokens: 120, totalOutputTokens: 60, totalTokens: 180 });
    expect(run.totalCost).toBeCloseTo(0.06, 12);
    expect(summarize.totalCalls).toBe(2);
    expect(summarize.perModel["openai/gpt-4.1-mini"]).toEqual({ calls: 1, inputTokens: 100, outputTokens: 50, cost: 0.02 });
    // The kernel asks with a trailing dot; it means the same prefix.
    expect(await logger.getStats("workflow.run-1.")).toEqual(run);
  });

  it("never mixes a stage with a sibling whose id starts the same way, nor run-1 with run-10", async () => {
    const logger = new InMemoryAICallLogger();
    logger.logCall(call(stageTopic("run-1", "sum"), 1));
    logger.logCall(call(stageTopic("run-1", "summary"), 10));
    logger.logCall(call(stageTopic("run-10", "sum"), 100));

    expect((await logger.getStats(stageTopic("run-1", "sum"))).totalCost).toBe(1);
    expect((await logger.getStats("workflow.run-1")).totalCost).toBe(11);
    expect((await logger.getStats("workflow")).totalCost).toBe(111);
  });

  it("returns empty stats for a topic with no calls, and copies so callers cannot alter its totals", async () => {
    const logger = new InMemoryAICallLogger();
    expect(await logger.getStats("workflow.nothing")).toMatchObject({ totalCalls: 0, totalCost: 0, perModel: {} });
    logger.logCall(call("workflow.r.stage.s", 1));
    const stats = await logger.getStats("workflow.r");
    stats.totalCost = 999;
    expect((await logger.getStats("workflow.r")).totalCost).toBe(1);
  });

  it("records a batch's results once, however often they are logged", async () => {
    const logger = new InMemoryAICallLogger();
    const items = [call("workflow.r.stage.b", 0.5), call("workflow.r.stage.b", 0.25)];

    expect(await logger.isRecorded("batch-1")).toBe(false);
    await logger.logBatchResults("batch-1", items);
    await logger.logBatchResults("batch-1", items);

    expect(await logger.isRecorded("batch-1")).toBe(true);
    expect((await logger.getStats("workflow.r")).totalCalls).toBe(2);
    expect(logger.getCalls("workflow.r").every((c) => c.batchId === "batch-1")).toBe(true);
  });

  it("stamps calls with the injected clock and ids in order", () => {
    const logger = new InMemoryAICallLogger({ clock: { now: () => new Date("2030-01-01T00:00:00Z") } });
    logger.logCall(call("workflow.r.stage.s", 1));
    logger.logCall(call("workflow.r.stage.s", 2));

    const calls = logger.getCalls();
    expect(calls.map((c) => c.id)).toEqual(["aicall-1", "aicall-2"]);
    expect(calls[0].createdAt.toISOString()).toBe("2030-01-01T00:00:00.000Z");
  });
});
