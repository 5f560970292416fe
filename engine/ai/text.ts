/** `generateText`, with an optional tool loop bounded by `maxSteps`. */

import { addUsage, emptyUsage } from "./pricing.js";
import type { ConversationMessage, RawToolCall, ToolSpec } from "./providers/types.js";
import {
  assertNotFiltered,
  chatRequest,
  record,
  renderForLog,
  resolve,
  resultBase,
  send,
  toConversation,
  type CallOptions,
  type HelperRuntime,
} from "./runtime.js";
import { toJsonSchema, type AnyAITool, type ToolSet } from "./tools.js";
import type { CallResultBase, FinishReason, Prompt, TokenUsage, ToolCall, ToolResult } from "./types.js";

/** Default bound on model requests in one tool loop. */
export const DEFAULT_MAX_STEPS = 5;

export interface GenerateTextOptions extends CallOptions {
  /** Tools the model may call; their results are sent back until it answers or `maxSteps` is hit. */
  tools?: ToolSet;
  /** Most model requests in one call (each tool round-trip is one). @default 5 with tools, else 1 */
  maxSteps?: number;
}

/** One model request of a tool loop. */
export interface StepResult {
  text: string;
  toolCalls: ToolCall[];
  toolResults: ToolResult[];
  finishReason: FinishReason;
  usage: TokenUsage;
  cost: number;
}

export interface GenerateTextResult extends CallResultBase {
  text: string;
  /** Reasoning text, when the provider returns it (Anthropic thinking, Gemini thoughts, OpenAI summaries). */
  reasoning?: string;
  /** `max-steps` when the model still wanted tools after `maxSteps` requests. */
  finishReason: FinishReason;
  toolCalls: ToolCall[];
  toolResults: ToolResult[];
  /** Every request made; `usage` and `cost` are their sums. */
  steps: StepResult[];
}

export async function generateText(
  rt: HelperRuntime,
  modelKey: string,
  prompt: Prompt,
  options: GenerateTextOptions = {},
): Promise<GenerateTextResult> {
  const model = await resolve(rt, modelKey, "text");
  const tools = options.tools ?? {};
  const toolSpecs = toolSpecsOf(tools);
  const maxSteps = Math.max(1, options.maxSteps ?? (toolSpecs.length ? DEFAULT_MAX_STEPS : 1));
  const messages: ConversationMessage[] = toConversation(prompt);
  const steps: StepResult[] = [];
  let usage = emptyUsage();
  let cost = 0;
  let reasoning = "";

  for (let step = 1; ; step++) {
    // Each step logs only what is new in it, so stored prompts grow linearly over a long loop.
    const newInput = renderForLog(step === 1 ? options.system : undefined, messages.slice(step === 1 ? 0 : -1));
    const request = { ...chatRequest(model.spec, messages, options), tools: toolSpecs.length ? toolSpecs : undefined };
    const response = await send(rt, model, request, options);
    // A step's usage is that request's alone; adding steps never counts a token twice.
    usage = addUsage(usage, response.usage);
    const stepCost = await record(rt, {
      callType: "generateText",
      model: model.spec,
      prompt: newInput,
      response: response.text || JSON.stringify(response.toolCalls.map(({ name, arguments: args }) => ({ name, args }))),
      usage: response.usage,
      metadata: { step, finishReason: response.finishReason, ...options.metadata },
    });
    cost += stepCost;
    if (response.reasoning) reasoning += response.reasoning;
    assertNotFiltered(model.spec, response);

    const wantsTools = response.toolCalls.length > 0 && toolSpecs.length > 0;
    const stepResult: StepResult = {
      text: response.text,
      toolCalls: response.toolCalls.map((c) => ({ id: c.id, name: c.name, args: c.arguments })),
      toolResults: [],
      finishReason: wantsTools && step >= maxSteps ? "max-steps" : response.finishReason,
      usage: response.usage,
      cost: stepCost,
    };
    steps.push(stepResult);
    if (!wantsTools || step >= maxSteps) break;

    const results = await Promise.all(response.toolCalls.map((call) => runTool(tools, call, options.signal)));
    stepResult.toolCalls = results.map((r) => r.call);
    stepResult.toolResults = results.map((r) => r.result);
    messages.push(
      { role: "assistant", content: response.text, toolCalls: response.toolCalls, providerContent: response.providerContent },
      {
        role: "tool",
        results: results.map(({ result }) => ({
          toolCallId: result.toolCallId,
          name: result.name,
          content: result.error ?? JSON.stringify(result.result ?? null),
          isError: result.error !== undefined,
        })),
      },
    );
  }

  const last = steps[steps.length - 1];
  return {
    ...resultBase(model.spec, usage, cost),
    text: last.text,
    reasoning: reasoning || undefined,
    finishReason: last.finishReason,
    toolCalls: steps.flatMap((s) => s.toolCalls),
    toolResults: steps.flatMap((s) => s.toolResults),
    steps,
  };
}

function toolSpecsOf(tools: ToolSet): ToolSpec[] {
  return Object.entries(tools).map(([name, t]) => ({ name, description: t.description, parameters: toJsonSchema(t.parameters) }));
}

/**
 * Runs one tool call. Bad arguments and thrown errors go back to the model as an error result
 * (it can often correct itself) rather than failing the whole call.
 */
async function runTool(tools: ToolSet, call: RawToolCall, signal?: AbortSignal): Promise<{ call: ToolCall; result: ToolResult }> {
  const base = { toolCallId: call.id, name: call.name };
  const tool: AnyAITool | undefined = Object.hasOwn(tools, call.name) ? tools[call.name] : undefined;
  if (!tool) {
    const error = `Unknown tool "${call.name}". Available: ${Object.keys(tools).join(", ")}`;
    return { call: { id: call.id, name: call.name, args: call.arguments }, result: { ...base, result: null, error } };
  }
  const parsed = tool.parameters.safeParse(call.arguments);
  if (!parsed.success) {
    const error = `Invalid arguments for ${call.name}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`;
    return { call: { id: call.id, name: call.name, args: call.arguments }, result: { ...base, result: null, error } };
  }
  const typedCall = { id: call.id, name: call.name, args: parsed.data };
  try {
    const result = await tool.execute(parsed.data as never, { toolCallId: call.id, signal });
    return { call: typedCall, result: { ...base, result } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { call: typedCall, result: { ...base, result: null, error: `${call.name} failed: ${message}` } };
  }
}
