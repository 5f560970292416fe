import { assertValidStageId } from "./stage.js";
import type { Workflow } from "./workflow.js";

/** "extract-text" -> "EXTRACT_TEXT" */
export type StageIdConstant<S extends string> = Uppercase<
  S extends `${infer Head}-${infer Tail}` ? `${Head}_${StageIdConstant<Tail>}` : S
>;

export type StageIdMap<TIds extends string> = { readonly [K in TIds as StageIdConstant<K>]: K };

function toConstantName(id: string): string {
  return id.replace(/-/g, "_").toUpperCase();
}

/**
 * Stage id constants with autocomplete, declared up front.
 *
 * @example
 * ```ts
 * const STAGES = defineStageIds(["extract-text", "summarize"] as const);
 * STAGES.EXTRACT_TEXT; // "extract-text"
 * ```
 */
export function defineStageIds<const TIds extends readonly string[]>(ids: TIds): StageIdMap<TIds[number]> {
  const map: Record<string, string> = {};
  for (const id of ids) {
    assertValidStageId(id);
    map[toConstantName(id)] = id;
  }
  return Object.freeze(map) as StageIdMap<TIds[number]>;
}

/** Stage id constants taken from a built workflow. */
export function createStageIds<TContext extends Record<string, unknown>>(
  workflow: Workflow<unknown, unknown, TContext> | Workflow<never, unknown, TContext>,
): StageIdMap<keyof TContext & string> {
  return defineStageIds((workflow as Workflow).stageIds) as StageIdMap<keyof TContext & string>;
}
