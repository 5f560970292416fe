/** Tools the model may call, typed by their zod schemas. */

import { z } from "zod";
import type { JsonSchema } from "./providers/types.js";

/** What a tool's `execute` receives besides its arguments. */
export interface ToolExecutionContext {
  toolCallId: string;
  signal?: AbortSignal;
}

/** A tool: the model sees its description and argument schema; `execute` runs with parsed arguments. */
export interface AITool<TArgs = unknown, TResult = unknown> {
  description?: string;
  parameters: z.ZodType<TArgs>;
  execute(args: TArgs, context: ToolExecutionContext): TResult | Promise<TResult>;
}

/** Any tool, whatever its argument and result types. */
export interface AnyAITool {
  description?: string;
  parameters: z.ZodType;
  execute(args: never, context: ToolExecutionContext): unknown;
}

/** Tools by name, as given to `generateText`. */
export type ToolSet = Record<string, AnyAITool>;

/**
 * Defines a tool; `execute`'s arguments are typed by `parameters`.
 *
 * @example
 * ```ts
 * const getWeather = tool({
 *   description: "Current temperature in a city",
 *   parameters: z.object({ city: z.string() }),
 *   execute: async ({ city }) => ({ city, celsius: 21 }),
 * });
 * await ai.generateText("openai/gpt-4.1-mini", "Weather in Oslo?", { tools: { getWeather }, maxSteps: 3 });
 * ```
 */
export function tool<TSchema extends z.ZodType, TResult>(definition: {
  description?: string;
  parameters: TSchema;
  execute(args: z.output<TSchema>, context: ToolExecutionContext): TResult | Promise<TResult>;
}): AITool<z.output<TSchema>, TResult> {
  return definition as AITool<z.output<TSchema>, TResult>;
}

/** JSON Schema of a zod schema, as providers accept it (no `$schema` key). */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return rest;
}
