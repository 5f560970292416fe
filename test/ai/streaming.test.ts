import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AIError, ContentFilterError } from "../../engine/ai/index.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";
import { aiAgainst, TOPIC } from "./support/setup.js";

let server: FakeProviderServer;
beforeAll(async () => {
  server = await FakeProviderServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const pieces: string[] = [];
  for await (const piece of stream) pieces.push(piece);
  return pieces;
}

describe.each([
  ["openai/gpt-4.1-mini", {}],
  ["openai/gpt-4.1-mini", { openai: { api: "responses" as const } }],
  ["anthropic/claude-haiku-4-5", {}],
  ["google/gemini-2.5-flash", {}],
])("%s %j", (model, providers) => {
  it("yields the text in pieces, then the final usage counted once", async () => {
    const { ai, logger } = aiAgainst(server, {
      providers: Object.keys(providers).length ? { openai: { apiKey: "sk-test", baseURL: server.openaiBaseURL, api: "responses" } } : {},
    });
    server.reply({ text: "Queues decouple producers from consumers.", usage: { input: 30, output: 8 } });

    const stream = ai.streamText(model, "Explain queues in one sentence");
    const pieces = await collect(stream);
    const result = await stream.result;

    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe("Queues decouple producers from consumers.");
    expect(result.text).toBe(pieces.join(""));
    // Anthropic repeats usage in message_start and message_delta, Gemini in every chunk: neither is added up.
    expect(result.usage.outputTokens).toBe(8);
    expect(result.usage.inputTokens).toBe(30);
    const [call] = logger.getCalls(TOPIC);
    expect(call).toMatchObject({ callType: "streamText", inputTokens: 30, outputTokens: 8 });
    expect(call.cost).toBeCloseTo(result.cost, 12);
  });
});

it("asks OpenAI chat streams to include usage, which would otherwise be missing", async () => {
  const { ai } = aiAgainst(server);
  server.reply({ text: "hi there" });

  await ai.streamText("openai/gpt-4.1-mini", "hi").result;

  expect(server.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
});

it("surfaces reasoning from a streamed Anthropic thinking block without mixing it into the text", async () => {
  const { ai } = aiAgainst(server);
  server.reply({ reasoning: "The user wants brevity.", text: "Short answer.", usage: { input: 10, output: 40 } });

  const stream = ai.streamText("anthropic/claude-haiku-4-5", "Be brief", {
    providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 1024 } } },
  });
  const pieces = await collect(stream);
  const result = await stream.result;

  expect(pieces.join("")).toBe("Short answer.");
  expect(result.reasoning).toBe("The user wants brevity.");
  expect(server.requests[0].body).toMatchObject({ thinking: { type: "enabled", budget_tokens: 1024 } });
});

it("gives the result without iterating, by reading the stream to its end", async () => {
  const { ai } = aiAgainst(server);
  server.reply({ text: "one two three", usage: { input: 5, output: 3 } });

  const result = await ai.streamText("google/gemini-2.5-flash", "count").result;

  expect(result.text).toBe("one two three");
  expect(result.usage.outputTokens).toBe(3);
});

it("retries opening a stream after a 429", async () => {
  const { ai, sleeps } = aiAgainst(server);
  server.fail({ status: 429, headers: { "retry-after": "1" } }).reply({ text: "finally here" });

  const pieces = await collect(ai.streamText("openai/gpt-4.1-mini", "hi"));

  expect(pieces.join("")).toBe("finally here");
  expect(sleeps).toEqual([1000]);
});

it("rejects the result when the caller stops reading early, since usage never arrived", async () => {
  const { ai } = aiAgainst(server);
  server.reply({ text: "a b c d e f" });
  const stream = ai.streamText("openai/gpt-4.1-mini", "letters");

  for await (const _ of stream) break;

  await expect(stream.result).rejects.toBeInstanceOf(AIError);
});

it("fails a filtered stream with ContentFilterError after recording it", async () => {
  const { ai, logger } = aiAgainst(server);
  server.reply({ text: "partial", finish: "filter" });

  const stream = ai.streamText("openai/gpt-4.1-mini", "bad");

  await expect(collect(stream)).rejects.toBeInstanceOf(ContentFilterError);
  await expect(stream.result).rejects.toBeInstanceOf(ContentFilterError);
  expect(logger.getCalls(TOPIC)).toHaveLength(1);
});

it("streams offline from local models", async () => {
  const { ai } = aiAgainst(server);
  const stream = ai.streamText("local/fast", "Stream this sentence word by word");
  const pieces = await collect(stream);
  expect(pieces.length).toBeGreaterThan(3);
  expect((await stream.result).offline).toBe(true);
});
