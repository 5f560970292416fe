import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ObjectValidationError } from "../../engine/ai/index.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";
import { aiAgainst, TOPIC } from "./support/setup.js";

let server: FakeProviderServer;
beforeAll(async () => {
  server = await FakeProviderServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const Sentiment = z.object({
  sentiment: z.enum(["positive", "negative", "neutral"]),
  confidence: z.number().min(0).max(1),
});

describe.each(["openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5", "google/gemini-2.5-flash"])("%s", (model) => {
  it("returns the object parsed by the schema", async () => {
    const { ai } = aiAgainst(server);
    server.reply({ json: { sentiment: "positive", confidence: 0.9 }, usage: { input: 40, output: 12 } });

    const result = await ai.generateObject(model, "Great product!", Sentiment);

    expect(result.object).toEqual({ sentiment: "positive", confidence: 0.9 });
    expect(result.repaired).toBe(false);
    expect(result.cost).toBeGreaterThan(0);
  });
});

it("asks OpenAI for JSON that follows the schema", async () => {
  const { ai } = aiAgainst(server);
  server.reply({ json: { sentiment: "neutral", confidence: 0.5 } });

  await ai.generateObject("openai/gpt-4.1-mini", "It is fine.", Sentiment, { schemaName: "sentiment" });

  const body = server.requests[0].body as { response_format: { type: string; json_schema: { name: string; schema: { properties: object } } } };
  expect(body.response_format.type).toBe("json_schema");
  expect(body.response_format.json_schema.name).toBe("sentiment");
  expect(Object.keys(body.response_format.json_schema.schema.properties)).toEqual(["sentiment", "confidence"]);
});

it("makes Anthropic answer through a forced tool whose input is the object", async () => {
  const { ai } = aiAgainst(server);
  server.reply({ json: { sentiment: "negative", confidence: 0.8 } });

  await ai.generateObject("anthropic/claude-haiku-4-5", "Broke after a day.", Sentiment);

  const body = server.requests[0].body as { tool_choice: { type: string; name: string }; tools: { name: string }[] };
  expect(body.tool_choice).toEqual({ type: "tool", name: "result" });
  expect(body.tools.map((t) => t.name)).toEqual(["result"]);
});

it("asks for the answer tool in the system prompt when Anthropic's extended thinking forbids forcing it", async () => {
  const { ai } = aiAgainst(server);
  server.reply({ json: { sentiment: "positive", confidence: 0.7 }, reasoning: "Positive words." });

  const result = await ai.generateObject("anthropic/claude-haiku-4-5", "Nice!", Sentiment, {
    system: "You classify reviews.",
    maxTokens: 3000,
    providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 1024 } } },
  });

  const body = server.requests[0].body as { tool_choice: { type: string }; system: string };
  expect(body.tool_choice).toEqual({ type: "auto" });
  expect(body.system).toBe("You classify reviews.\n\nReply by calling the result tool.");
  expect(result.object).toEqual({ sentiment: "positive", confidence: 0.7 });
  expect(result.reasoning).toBe("Positive words.");
});

it("sends Gemini the JSON schema with a JSON response type", async () => {
  const { ai } = aiAgainst(server);
  server.reply({ json: { sentiment: "neutral", confidence: 0.4 } });

  await ai.generateObject("google/gemini-2.5-flash", "Meh.", Sentiment);

  const body = server.requests[0].body as { generationConfig: { responseMimeType: string; responseJsonSchema: { type: string } } };
  expect(body.generationConfig.responseMimeType).toBe("application/json");
  expect(body.generationConfig.responseJsonSchema.type).toBe("object");
});

it("repairs an invalid answer with one more request, and bills both", async () => {
  const { ai, logger } = aiAgainst(server);
  server.reply(
    { text: '{"sentiment": "ecstatic", "confidence": 2}', usage: { input: 100, output: 10 } },
    { text: '```json\n{"sentiment": "positive", "confidence": 1}\n```', usage: { input: 150, output: 10 } },
  );

  const result = await ai.generateObject("openai/gpt-4.1-mini", "Love it", Sentiment);

  expect(result.object).toEqual({ sentiment: "positive", confidence: 1 });
  expect(result.repaired).toBe(true);
  expect(result.usage.inputTokens).toBe(250);
  const repairRequest = server.requests[1].body as { messages: { role: string; content: string }[] };
  expect(repairRequest.messages.at(-2)).toMatchObject({ role: "assistant", content: '{"sentiment": "ecstatic", "confidence": 2}' });
  expect(repairRequest.messages.at(-1)?.content).toContain("sentiment");
  const calls = logger.getCalls(TOPIC);
  expect(calls).toHaveLength(2);
  expect(result.cost).toBeCloseTo(calls[0].cost + calls[1].cost, 12);
});

it("gives up after the repair attempt with a typed error carrying the raw text", async () => {
  const { ai } = aiAgainst(server);
  server.reply({ text: "Sure! Here you go: positive" }, { text: "positive, definitely" });

  const error = await ai.generateObject("openai/gpt-4.1-mini", "Love it", Sentiment).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(ObjectValidationError);
  expect((error as ObjectValidationError).rawText).toBe("positive, definitely");
  expect((error as ObjectValidationError).issues[0]).toContain("not valid JSON");
  expect(server.requests).toHaveLength(2);
});

it("produces schema-valid objects offline with local models, the same for the same prompt", async () => {
  const { ai } = aiAgainst(server);
  const Summary = z.object({ title: z.string(), keywords: z.array(z.string()).min(1).max(5), score: z.number().int().min(1).max(10) });

  const first = await ai.generateObject("local/fast", "Durable workflows on AWS", Summary);
  const again = await ai.generateObject("local/fast", "Durable workflows on AWS", Summary);

  expect(Summary.parse(first.object)).toEqual(first.object);
  expect(again.object).toEqual(first.object);
  expect(first.offline).toBe(true);
});
