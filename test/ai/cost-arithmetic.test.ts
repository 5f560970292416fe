import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { computeCost, resolveModel } from "../../engine/ai/index.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";
import { aiAgainst, TOPIC } from "./support/setup.js";

let server: FakeProviderServer;
beforeAll(async () => {
  server = await FakeProviderServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

/** Dollars for `tokens` at `perMillion` dollars per million tokens. */
const $ = (tokens: number, perMillion: number) => (tokens * perMillion) / 1_000_000;

describe("OpenAI", () => {
  it("bills cached prompt tokens at the cached price and the rest at the input price", async () => {
    const { ai, logger } = aiAgainst(server);
    // gpt-4.1-mini: $0.40 input, $0.10 cached input, $1.60 output per million.
    server.reply({ text: "summary", usage: { input: 12_000, cached: 2_000, output: 800 } });

    const result = await ai.generateText("openai/gpt-4.1-mini", "Summarize this long document");

    const expected = $(10_000, 0.4) + $(2_000, 0.1) + $(800, 1.6); // 0.00548
    expect(expected).toBeCloseTo(0.00548, 12);
    expect(result.cost).toBeCloseTo(expected, 12);
    expect(result.usage).toMatchObject({ inputTokens: 12_000, cachedInputTokens: 2_000, outputTokens: 800, totalTokens: 12_800 });
    const [call] = logger.getCalls(TOPIC);
    expect(call).toMatchObject({ modelKey: "openai/gpt-4.1-mini", modelId: "gpt-4.1-mini", inputTokens: 12_000, cachedInputTokens: 2_000, outputTokens: 800, costSource: "catalog" });
    expect(call.cost).toBeCloseTo(expected, 12);
  });

  it("bills reasoning tokens once, as part of the completion tokens", async () => {
    const { ai } = aiAgainst(server);
    // o4-mini: $1.10 input, $4.40 output; 2,500 of the 3,000 completion tokens are reasoning.
    server.reply({ text: "42", usage: { input: 1_000, output: 3_000, reasoning: 2_500 } });

    const result = await ai.generateText("openai/o4-mini", "Think hard");

    expect(result.cost).toBeCloseTo($(1_000, 1.1) + $(3_000, 4.4), 12); // 0.0143
    expect(result.usage.reasoningTokens).toBe(2_500);
    expect(result.usage.outputTokens).toBe(3_000);
  });

  it("halves every price in a batch", () => {
    const usage = { inputTokens: 12_000, cachedInputTokens: 2_000, cacheWriteInputTokens: 0, outputTokens: 800, reasoningTokens: 0, totalTokens: 12_800 };
    const cost = computeCost(resolveModel("openai/gpt-4.1-mini"), usage, { batch: true });
    expect(cost.total).toBeCloseTo(0.00274, 12);
    expect(cost.discount).toBe(0.5);
  });
});

describe("Anthropic", () => {
  it("adds cache reads and cache writes to the prompt and prices each at its own rate", async () => {
    const { ai, logger } = aiAgainst(server);
    // claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 cache write, $5 output per million.
    server.reply({ text: "summary", usage: { input: 1_000, cached: 4_000, cacheWrite: 2_000, output: 500 } });

    const result = await ai.generateText("anthropic/claude-haiku-4-5", "Summarize", { system: "A long cached system prompt" });

    const expected = $(1_000, 1) + $(4_000, 0.1) + $(2_000, 1.25) + $(500, 5); // 0.0064
    expect(expected).toBeCloseTo(0.0064, 12);
    expect(result.cost).toBeCloseTo(expected, 12);
    expect(result.usage).toMatchObject({ inputTokens: 7_000, cachedInputTokens: 4_000, cacheWriteInputTokens: 2_000, outputTokens: 500 });
    expect(logger.getCalls(TOPIC)[0]).toMatchObject({ inputTokens: 7_000, cachedInputTokens: 4_000, cacheWriteInputTokens: 2_000 });
  });

  it("halves cache reads and writes too in a batch", () => {
    const usage = { inputTokens: 7_000, cachedInputTokens: 4_000, cacheWriteInputTokens: 2_000, outputTokens: 500, reasoningTokens: 0, totalTokens: 7_500 };
    expect(computeCost(resolveModel("anthropic/claude-haiku-4-5"), usage, { batch: true }).total).toBeCloseTo(0.0032, 12);
  });
});

describe("Gemini", () => {
  it("bills thinking tokens as output on top of the candidates, and cached content at the cached price", async () => {
    const { ai } = aiAgainst(server);
    // gemini-2.5-flash: $0.30 input, $0.03 cached, $2.50 output per million.
    server.reply({ text: "summary", reasoning: "let me think", usage: { input: 10_000, cached: 4_000, output: 600, reasoning: 400 } });

    const result = await ai.generateText("google/gemini-2.5-flash", "Summarize");

    const expected = $(6_000, 0.3) + $(4_000, 0.03) + $(1_000, 2.5); // 0.00442
    expect(expected).toBeCloseTo(0.00442, 12);
    expect(result.cost).toBeCloseTo(expected, 12);
    expect(result.usage).toMatchObject({ inputTokens: 10_000, cachedInputTokens: 4_000, outputTokens: 1_000, reasoningTokens: 400 });
    expect(result.reasoning).toBe("let me think");
  });

  it("switches Gemini 2.5 Pro to its long-context prices above 200k prompt tokens", () => {
    const pro = resolveModel("google/gemini-2.5-pro");
    const usage = (input: number) => ({ inputTokens: input, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 1_000, reasoningTokens: 0, totalTokens: input + 1_000 });
    expect(computeCost(pro, usage(100_000)).total).toBeCloseTo($(100_000, 1.25) + $(1_000, 10), 12); // 0.135
    expect(computeCost(pro, usage(250_000)).total).toBeCloseTo($(250_000, 2.5) + $(1_000, 15), 12); // 0.64
    expect(computeCost(pro, usage(250_000), { batch: true }).total).toBeCloseTo(0.32, 12);
  });
});

describe("offline local models", () => {
  it("price estimated tokens at a simulated rate and say so", async () => {
    const { ai, logger } = aiAgainst(server);
    const prompt = "x".repeat(400); // 100 estimated tokens

    const result = await ai.generateText("local/smart", prompt);

    expect(result.offline).toBe(true);
    expect(result.costSource).toBe("simulated");
    expect(result.usage.inputTokens).toBe(100);
    expect(result.cost).toBeCloseTo($(100, 1) + $(result.usage.outputTokens, 5), 12);
    expect(logger.getCalls(TOPIC)[0]).toMatchObject({ offline: true, costSource: "simulated", metadata: { offline: true } });
    expect(server.requests).toHaveLength(0);
  });
});

it("sums a stage's calls across providers in the logger's stats", async () => {
  const { ai, logger } = aiAgainst(server);
  server.reply(
    { text: "a", usage: { input: 12_000, cached: 2_000, output: 800 } },
    { text: "b", usage: { input: 1_000, cached: 4_000, cacheWrite: 2_000, output: 500 } },
  );
  const first = await ai.generateText("openai/gpt-4.1-mini", "one");
  const second = await ai.generateText("anthropic/claude-haiku-4-5", "two");

  const stats = await logger.getStats(TOPIC);

  expect(stats.totalCalls).toBe(2);
  expect(stats.totalCost).toBeCloseTo(0.00548 + 0.0064, 12);
  expect(stats.totalCost).toBeCloseTo(first.cost + second.cost, 12);
  expect(stats.totalTokens).toBe(12_800 + 7_500);
  expect(stats.perModel["anthropic/claude-haiku-4-5"]).toMatchObject({ calls: 1, inputTokens: 7_000, outputTokens: 500 });
});
