/** `streamText`: text as it is generated, then the call's usage and cost once it ends. */

import { AIError } from "./errors.js";
import { withRetries } from "./retry.js";
import type { ChatResponse, StreamEvent } from "./providers/types.js";
import {
  assertNotFiltered,
  chatRequest,
  record,
  renderForLog,
  resolve,
  resultBase,
  toConversation,
  type CallOptions,
  type HelperRuntime,
} from "./runtime.js";
import type { GenerateTextResult } from "./text.js";
import type { Prompt } from "./types.js";

/**
 * Iterate it for the text pieces; `result` resolves when the stream has ended, with the whole text,
 * usage and cost. Awaiting `result` without iterating reads the stream to its end.
 */
export interface StreamTextResult extends AsyncIterable<string> {
  readonly result: Promise<GenerateTextResult>;
}

export function streamText(rt: HelperRuntime, modelKey: string, prompt: Prompt, options: CallOptions = {}): StreamTextResult {
  let settle!: { resolve(r: GenerateTextResult): void; reject(e: unknown): void };
  const result = new Promise<GenerateTextResult>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody may await `result`; an unobserved rejection must not crash the process.
  result.catch(() => undefined);

  const pieces = produce(rt, modelKey, prompt, options, settle);
  let started = false;
  const take = () => {
    if (started) throw new AIError("streamText can be iterated once");
    started = true;
    return pieces;
  };
  return {
    [Symbol.asyncIterator]: () => take()[Symbol.asyncIterator](),
    get result() {
      if (!started) void drain(take());
      return result;
    },
  };
}

async function drain(pieces: AsyncIterable<string>): Promise<void> {
  try {
    for await (const _ of pieces) {
      // reading to the end settles `result`
    }
  } catch {
    // already reported through `result`
  }
}

async function* produce(
  rt: HelperRuntime,
  modelKey: string,
  prompt: Prompt,
  options: CallOptions,
  settle: { resolve(r: GenerateTextResult): void; reject(e: unknown): void },
): AsyncGenerator<string> {
  let settled = false;
  try {
    const model = await resolve(rt, modelKey, "text");
    const messages = toConversation(prompt);
    const request = chatRequest(model.spec, messages, options);
    // Only opening the stream is retried: once text has been handed out, a retry would repeat it.
    const events: AsyncIterable<StreamEvent> = await withRetries(model.provider, { ...rt.retry, ...options.retry }, options.signal, () =>
      model.provider.stream(request),
    );
    let final: ChatResponse | undefined;
    for await (const event of events) {
      if (event.type === "text") yield event.text;
      else if (event.type === "done") final = event.response;
    }
    if (!final) throw new AIError(`${model.spec.key} stream ended without a final message`);
    const cost = await record(rt, {
      callType: "streamText",
      model: model.spec,
      prompt: renderForLog(options.system, messages),
      response: final.text,
      usage: final.usage,
      metadata: { finishReason: final.finishReason, ...options.metadata },
    });
    assertNotFiltered(model.spec, final);
    settle.resolve({
      ...resultBase(model.spec, final.usage, cost),
      text: final.text,
      reasoning: final.reasoning,
      finishReason: final.finishReason,
      toolCalls: [],
      toolResults: [],
      steps: [{ text: final.text, toolCalls: [], toolResults: [], finishReason: final.finishReason, usage: final.usage, cost }],
    });
    settled = true;
  } catch (error) {
    settled = true;
    settle.reject(error);
    throw error;
  } finally {
    // The caller stopped iterating early: the provider never sent the final usage.
    if (!settled) settle.reject(new AIError("streamText was not read to the end, so its usage and cost are unknown"));
  }
}
