/** `generateObject`: structured output validated by a zod schema, with one repair attempt. */

import type { z } from "zod";
import { ObjectValidationError } from "./errors.js";
import { addUsage } from "./pricing.js";
import type { ConversationMessage } from "./providers/types.js";
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
import { toJsonSchema } from "./tools.js";
import type { CallResultBase, Prompt } from "./types.js";

export interface GenerateObjectOptions extends CallOptions {
  /** Name given to the schema in the provider request. @default "result" */
  schemaName?: string;
}

export interface GenerateObjectResult<T> extends CallResultBase {
  object: T;
  /** The model's answer as text, before parsing. */
  rawText: string;
  /** True when the first answer was invalid and the repair request fixed it (both are billed). */
  repaired: boolean;
  reasoning?: string;
}

type ParseOutcome<T> = { ok: true; value: T } | { ok: false; issues: string[] };

export async function generateObject<T>(
  rt: HelperRuntime,
  modelKey: string,
  prompt: Prompt,
  schema: z.ZodType<T>,
  options: GenerateObjectOptions = {},
): Promise<GenerateObjectResult<T>> {
  const model = await resolve(rt, modelKey, "text");
  const jsonSchema = { name: options.schemaName ?? "result", schema: toJsonSchema(schema) };
  const messages: ConversationMessage[] = toConversation(prompt);
  let usage;
  let cost = 0;

  for (let attempt = 1; ; attempt++) {
    const response = await send(rt, model, { ...chatRequest(model.spec, messages, options), jsonSchema }, options);
    usage = usage ? addUsage(usage, response.usage) : response.usage;
    cost += await record(rt, {
      callType: "generateObject",
      model: model.spec,
      prompt: renderForLog(attempt === 1 ? options.system : undefined, attempt === 1 ? messages : messages.slice(-1)),
      response: response.text,
      usage: response.usage,
      metadata: { attempt, finishReason: response.finishReason, ...options.metadata },
    });
    assertNotFiltered(model.spec, response);

    const parsed = parseObject(response.text, schema);
    if (parsed.ok) {
      return {
        ...resultBase(model.spec, usage, cost),
        object: parsed.value,
        rawText: response.text,
        repaired: attempt > 1,
        reasoning: response.reasoning,
      };
    }
    if (attempt >= 2) throw new ObjectValidationError(model.spec.key, response.text, parsed.issues);
    messages.push(
      { role: "assistant", content: response.text },
      {
        role: "user",
        content:
          `Your reply did not match the required JSON schema: ${parsed.issues.join("; ")}. ` +
          `Reply again with only the corrected JSON value, no prose and no code fences.`,
      },
    );
  }
}

/** Parses a model's JSON answer, tolerating a Markdown code fence around it. */
export function parseObject<T>(text: string, schema: z.ZodType<T>): ParseOutcome<T> {
  const unfenced = text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/i, "$1");
  let json: unknown;
  try {
    json = JSON.parse(unfenced);
  } catch (error) {
    return { ok: false, issues: [`not valid JSON (${(error as Error).message})`] };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`) };
}
