import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { tool } from "../../engine/ai/index.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";
import { aiAgainst, TOPIC } from "./support/setup.js";

let server: FakeProviderServer;
beforeAll(async () => {
  server = await FakeProviderServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

function weatherTool() {
  const seen: string[] = [];
  const getWeather = tool({
    description: "Current temperature in a city",
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      seen.push(city);
      return { city, celsius: city === "Oslo" ? 4 : 21 };
    },
  });
  return { getWeather, seen };
}

describe.each(["openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5", "google/gemini-2.5-flash"])("%s", (model) => {
  it("runs the tool the model calls, sends the result back, and sums each request's usage once", async () => {
    const { ai, logger } = aiAgainst(server);
    const { getWeather, seen } = weatherTool();
    server.reply(
      { toolCalls: [{ name: "getWeather", args: { city: "Oslo" } }], usage: { input: 200, output: 20 } },
      { text: "It is 4 °C in Oslo.", usage: { input: 260, output: 12 } },
    );

    const result = await ai.generateText(model, "How warm is Oslo?", { tools: { getWeather } });

    expect(seen).toEqual(["Oslo"]);
    expect(result.text).toBe("It is 4 °C in Oslo.");
    expect(result.toolCalls).toMatchObject([{ name: "getWeather", args: { city: "Oslo" } }]);
    expect(result.toolResults).toMatchObject([{ name: "getWeather", result: { city: "Oslo", celsius: 4 } }]);
    expect(result.steps).toHaveLength(2);
    expect(result.usage.outputTokens).toBe(32);
    expect(result.usage.inputTokens).toBe(result.steps[0].usage.inputTokens + result.steps[1].usage.inputTokens);
    const stats = await logger.getStats(TOPIC);
    expect(stats.totalCalls).toBe(2);
    expect(stats.totalTokens).toBe(result.usage.totalTokens);
    expect(stats.totalCost).toBeCloseTo(result.cost, 12);
    expect(JSON.stringify(server.requests[1].body)).toContain('\\"celsius\\":4');
  });
});

it("stops after maxSteps even if the model keeps calling tools", async () => {
  const { ai } = aiAgainst(server);
  const { getWeather, seen } = weatherTool();
  server.reply(
    { toolCalls: [{ name: "getWeather", args: { city: "Oslo" } }] },
    { toolCalls: [{ name: "getWeather", args: { city: "Rome" } }] },
    { toolCalls: [{ name: "getWeather", args: { city: "Lima" } }] },
  );

  const result = await ai.generateText("openai/gpt-4.1-mini", "Weather everywhere", { tools: { getWeather }, maxSteps: 2 });

  expect(result.finishReason).toBe("max-steps");
  expect(result.steps).toHaveLength(2);
  expect(seen).toEqual(["Oslo"]);
  expect(server.requestsTo("/chat/completions")).toHaveLength(2);
});

it("sends invalid arguments back to the model as an error instead of calling the tool", async () => {
  const { ai } = aiAgainst(server);
  const { getWeather, seen } = weatherTool();
  server.reply(
    { toolCalls: [{ name: "getWeather", args: { town: "Oslo" } }] },
    { toolCalls: [{ name: "getWeather", args: { city: "Oslo" } }] },
    { text: "4 °C" },
  );

  const result = await ai.generateText("openai/gpt-4.1-mini", "Oslo?", { tools: { getWeather } });

  expect(seen).toEqual(["Oslo"]);
  expect(result.toolResults[0].error).toMatch(/Invalid arguments for getWeather: city/);
  expect(result.text).toBe("4 °C");
  const secondRequest = server.requests[1].body as { messages: { role: string; content: string }[] };
  expect(secondRequest.messages.at(-1)).toMatchObject({ role: "tool", content: expect.stringContaining("Invalid arguments") });
});

it("reports a tool that throws to the model and carries on", async () => {
  const { ai } = aiAgainst(server);
  const lookup = tool({
    parameters: z.object({ id: z.string() }),
    execute: () => {
      throw new Error("database is down");
    },
  });
  server.reply({ toolCalls: [{ name: "lookup", args: { id: "42" } }] }, { text: "Sorry, I could not look that up." });

  const result = await ai.generateText("anthropic/claude-haiku-4-5", "Find 42", { tools: { lookup } });

  expect(result.toolResults[0].error).toBe("lookup failed: database is down");
  const second = server.requests[1].body as { messages: { content: unknown }[] };
  expect(JSON.stringify(second.messages.at(-1))).toContain('"is_error":true');
});

it("runs a tool loop offline with local models", async () => {
  const { ai } = aiAgainst(server);
  const { getWeather, seen } = weatherTool();

  const result = await ai.generateText("local/fast", "Use getWeather for the city", { tools: { getWeather } });

  expect(seen).toHaveLength(1);
  expect(result.steps).toHaveLength(2);
  expect(result.text).toContain("getWeather returned");
  expect(server.requests).toHaveLength(0);
});
