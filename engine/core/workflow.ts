import type { z } from "zod";
import type { InferStageInput, InferStageOutput, Schema, StageLike } from "./stage.js";

export class InvalidWorkflowError extends Error {
  override name = "InvalidWorkflowError";
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Output map of a parallel group: each stage's output under its id. */
export type ParallelOutput<S extends readonly StageLike[]> = Simplify<{
  [X in S[number] as X["id"]]: InferStageOutput<X>;
}>;

/** Rejects, at compile time, a stage whose input does not accept what the previous group outputs. */
type AcceptsInput<S extends StageLike, TCurrent> = [TCurrent] extends [InferStageInput<S>]
  ? S
  : S & {
      readonly __error: `Stage "${S["id"]}" does not accept the previous group's output as its input`;
    };

/** A built, immutable workflow: execution groups of stages, run in order. */
export class Workflow<
  TInput = unknown,
  TOutput = unknown,
  TContext extends Record<string, unknown> = Record<string, unknown>,
> {
  /** Type-level only. */
  declare readonly __types?: { input: TInput; output: TOutput; context: TContext };
  private readonly stageIndex: ReadonlyMap<string, { stage: StageLike; group: number; number: number }>;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly description: string,
    readonly inputSchema: Schema<TInput>,
    readonly outputSchema: z.ZodType,
    readonly executionGroups: ReadonlyArray<ReadonlyArray<StageLike>>,
  ) {
    const index = new Map<string, { stage: StageLike; group: number; number: number }>();
    let number = 0;
    executionGroups.forEach((group, groupIndex) => {
      for (const stage of group) index.set(stage.id, { stage, group: groupIndex, number: number++ });
    });
    this.stageIndex = index;
  }

  /** The workflow's type, as stored on runs (the reference's `workflowType`). */
  get type(): string {
    return this.id;
  }

  getStage(stageId: string): StageLike | undefined {
    return this.stageIndex.get(stageId)?.stage;
  }

  /** Execution group index of a stage, or -1. */
  getExecutionGroupIndex(stageId: string): number {
    return this.stageIndex.get(stageId)?.group ?? -1;
  }

  /** Position of the stage in the whole plan (0-based). */
  getStageNumber(stageId: string): number {
    return this.stageIndex.get(stageId)?.number ?? -1;
  }

  getStagesInExecutionGroup(group: number): ReadonlyArray<StageLike> {
    return this.executionGroups[group] ?? [];
  }

  get stageIds(): string[] {
    return [...this.stageIndex.keys()];
  }

  get stages(): StageLike[] {
    return this.executionGroups.flat();
  }

  /** The plan as plain data: what `GET /workflows` shows. */
  describe(): { id: string; name: string; description: string; groups: { id: string; name: string; mode: string }[][] } {
    return {
      id: this.id,
      name: this.name,
      description: this.description,
      groups: this.executionGroups.map((g) => g.map((s) => ({ id: s.id, name: s.name, mode: s.mode }))),
    };
  }
}

export type InferWorkflowInput<W> = W extends Workflow<infer I, unknown, Record<string, unknown>> ? I : never;
export type InferWorkflowOutput<W> = W extends { __types?: { output: infer O } } ? O : never;
export type InferWorkflowContext<W> = W extends { __types?: { context: infer C } } ? C : never;

/**
 * Builds a workflow as a sequence of execution groups: `.pipe(stage)` adds a group of one,
 * `.parallel([a, b])` a group whose stages run at once.
 *
 * @example
 * ```ts
 * const workflow = new WorkflowBuilder("doc", "Documents", "Summarises a document", Input, Output)
 *   .pipe(extract)
 *   .parallel([summarize, classify])
 *   .build();
 * ```
 */
export class WorkflowBuilder<
  TWorkflowInput,
  TWorkflowOutput,
  TCurrent = TWorkflowInput,
  TContext extends Record<string, unknown> = {},
> {
  private readonly groups: StageLike[][] = [];

  constructor(
    private readonly id: string,
    private readonly name: string,
    private readonly description: string,
    private readonly inputSchema: Schema<TWorkflowInput>,
    private readonly outputSchema: Schema<TWorkflowOutput>,
  ) {
    if (!id || typeof id !== "string") throw new InvalidWorkflowError("Workflow id must be a non-empty string");
  }

  /** Adds a stage that runs after everything added before it. Its input is the previous group's output. */
  pipe<S extends StageLike>(
    stage: AcceptsInput<S, TCurrent>,
  ): WorkflowBuilder<
    TWorkflowInput,
    TWorkflowOutput,
    InferStageOutput<S>,
    Simplify<TContext & { [K in S["id"]]: InferStageOutput<S> }>
  > {
    this.groups.push([stage]);
    return this as never;
  }

  /** Adds stages that run at the same time; the group's output is keyed by stage id. */
  parallel<const S extends readonly StageLike[]>(
    stages: S,
  ): WorkflowBuilder<TWorkflowInput, TWorkflowOutput, ParallelOutput<S>, Simplify<TContext & ParallelOutput<S>>> {
    if (stages.length === 0) throw new InvalidWorkflowError(`Workflow "${this.id}": parallel() needs at least one stage`);
    this.groups.push([...stages]);
    return this as never;
  }

  /** Validates the plan (unique ids, dependencies that run earlier) and returns the workflow. */
  build(): Workflow<TWorkflowInput, TCurrent, TContext> {
    if (this.groups.length === 0) throw new InvalidWorkflowError(`Workflow "${this.id}" has no stages`);
    const seen = new Map<string, number>();
    this.groups.forEach((group, groupIndex) => {
      for (const stage of group) {
        if (seen.has(stage.id)) {
          throw new InvalidWorkflowError(
            `Workflow "${this.id}": duplicate stage id "${stage.id}" (stage ids must be unique)`,
          );
        }
        seen.set(stage.id, groupIndex);
      }
    });
    this.groups.forEach((group, groupIndex) => {
      for (const stage of group) {
        for (const dependency of stage.dependencies) {
          const dependencyGroup = seen.get(dependency);
          if (dependencyGroup === undefined) {
            throw new InvalidWorkflowError(`Stage ${stage.id} depends on ${dependency} which was not found`);
          }
          if (dependencyGroup >= groupIndex) {
            throw new InvalidWorkflowError(
              `Stage ${stage.id} depends on ${dependency}, which does not run before it (groups ${dependencyGroup} and ${groupIndex})`,
            );
          }
        }
      }
    });
    return new Workflow<TWorkflowInput, TCurrent, TContext>(
      this.id,
      this.name,
      this.description,
      this.inputSchema,
      this.outputSchema,
      this.groups.map((g) => Object.freeze([...g])),
    );
  }
}
