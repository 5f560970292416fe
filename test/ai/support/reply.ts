/** What a test asks the fake provider server to answer, independent of any provider's wire format. */

export interface FakeToolCall {
  name: string;
  args: unknown;
  id?: string;
}

/**
 * Token counts exactly as the provider reports them on the wire, with that provider's meaning:
 * - OpenAI: `input` = prompt_tokens, of which `cached` = cached_tokens; `output` = completion_tokens,
 *   of which `reasoning` = reasoning_tokens.
 * - Anthropic: `input` = input_tokens (uncached only), `cached` = cache_read_input_tokens,
 *   `cacheWrite` = cache_creation_input_tokens, `output` = output_tokens.
 * - Gemini: `input` = promptTokenCount, of which `cached` = cachedContentTokenCount;
 *   `output` = candidatesTokenCount; `reasoning` = thoughtsTokenCount (not part of candidates).
 */
export interface WireUsage {
  input: number;
  output: number;
  cached?: number;
  cacheWrite?: number;
  reasoning?: number;
}

export interface FakeReply {
  text?: string;
  /** Shorthand for `text: JSON.stringify(json)` (Anthropic: the forced tool's input). */
  json?: unknown;
  reasoning?: string;
  toolCalls?: FakeToolCall[];
  usage?: WireUsage;
  /** `refusal`: the model refuses; `filter`: the provider's content filter stops it. */
  finish?: "stop" | "length" | "refusal" | "filter";
}

export interface FakeError {
  status: number;
  headers?: Record<string, string>;
  message?: string;
}

export const DEFAULT_USAGE: WireUsage = { input: 10, output: 5 };

export function replyText(reply: FakeReply): string {
  if (reply.json !== undefined) return JSON.stringify(reply.json);
  return reply.text ?? "";
}
