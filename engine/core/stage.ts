import { z } from "zod";
import type { AICallLogger } from "./ai-call-logger.js";
import type { RetryPolicy } from "./retry.js";
import type {
  CompletionCheckResult,
  LogLevel,
  StageResult,
  SuspendedResult,
  SuspendedState,
} from "./types.js";

/** Input schema of a stage that reads only earlier outputs through `require`. */
export const NoInputSchema = z.object({}).loose();
export type NoInput = z.infer<typeof NoInputSchema>;

/** Any zod schema, named by the value it parses to. */
export type Schema<T> = z.ZodType<T, unknown>;

/** Progress a stage reports while it runs (becomes a `stage:progress` event). */
export interface ProgressUpdate {
  /** 0..1 */
  progress: number;
  message?: string;
  details?: Record<string, unknown>;
}

/** Artifact storage scoped to the current run and stage. */
export interface StageStorage {
  save(key: string, data: unknown): Promise<void>;
  load<T = unknown>(key: string): Promise<T>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Artifact keys saved by this stage. */
  list(): Promise<string[]>;
}

/** What a stage's `execute` receives. */
export interface StageContext<
  TInput,
  TConfig,
  TContext extends Record<string, unknown> = Record<string, unknown>,
> {
  readonly input: TInput;
  readonly config: TConfig;
  readonly workflowRunId: string;
  readonly stageId: string;
  /** Attempt number of this execution (1-based); it is the stage's fencing token. */
  readonly attempt: number;
  /** Outputs of every stage that completed before this one, keyed by stage id. */
  readonly workflowContext: Readonly<Partial<TContext>>;
  /** Set when an async-batch stage is executed again after its suspension ended. */
  readonly resumeState?: SuspendedState;
  /** Aborted when the run is cancelled or this attempt lost its lease. */
  readonly signal: AbortSignal;
  /** Output of an earlier stage; throws a clear error if that stage has no output. */
  require<K extends keyof TContext & string>(stageId: K): TContext[K];
  /** Output of an earlier stage, or undefined. */
  optional<K extends keyof TContext & string>(stageId: K): TContext[K] | undefined;
  log(level: LogLevel, message: string, meta?: Record<string, unknown>): void;
  onProgress(update: ProgressUpdate): void;
  readonly storage: StageStorage;
  /** Topic under which this stage's model calls are recorded: `workflow.<runId>.stage.<stageId>`. */
  readonly aiTopic: string;
  /** The kernel's AI-call logger, if it has one: `createAIHelper(ctx.aiTopic, ctx.aiCallLogger)`. */
  readonly aiCallLogger?: AICallLogger;
}

/** What `checkCompletion` receives besides the suspended state. */
export interface CheckCompletionContext<TConfig> {
  readonly workflowRunId: string;
  readonly stageId: string;
  readonly config: TConfig;
  log(level: LogLevel, message: string, meta?: Record<string, unknown>): void;
  readonly storage: StageStorage;
  readonly aiTopic: string;
  readonly aiCallLogger?: AICallLogger;
}

/** Structural view of any stage, used where the concrete types do not matter. */
export interface StageLike {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly mode: "sync" | "async-batch";
  readonly dependencies: readonly string[];
  readonly inputSchema: z.ZodType;
  readonly outputSchema: z.ZodType;
  readonly configSchema: z.ZodType;
  readonly retry?: RetryPolicy;
  /** Type-level only: the parsed types. */
  readonly __types?: { input: unknown; output: unknown; config: unknown };
  execute(ctx: StageContext<never, never, never>): Promise<StageResult<unknown> | SuspendedResult>;
  checkCompletion?(
    state: SuspendedState,
    ctx: CheckCompletionContext<never>,
  ): Promise<CompletionCheckResult<unknown>>;
}

/** A defined stage. The type parameters carry its id and the types its schemas parse to. */
export interface Stage<
  TId extends string,
  TInput,
  TOutput,
  TConfig,
  TContext extends Record<string, unknown> = Record<string, unknown>,
> extends StageLike {
  readonly id: TId;
  readonly inputSchema: Schema<TInput>;
  readonly outputSchema: Schema<TOutput>;
  readonly configSchema: Schema<TConfig>;
  readonly __types?: { input: TInput; output: TOutput; config: TConfig };
  execute(
    ctx: StageContext<TInput, TConfig, TContext>,
  ): Promise<StageResult<TOutput> | SuspendedResult>;
  checkCompletion?(
    state: SuspendedState,
    ctx: CheckCompletionContext<TConfig>,
  ): Promise<CompletionCheckResult<TOutput>>;
}

export type InferStageInput<S> = S extends { __types?: { input: infer I } } ? I : never;
export type InferStageOutput<S> = S extends { __types?: { output: infer O } } ? O : never;
export type InferStageConfig<S> = S extends { __types?: { config: infer C } } ? C : never;

/** A dependency: an earlier stage object (typed) or its id (output typed unknown). */
export type StageDependency = StageLike | string;

/** The `require()` map a list of dependencies gives a stage. */
export type DependencyContext<TDeps extends readonly StageDependency[]> =
  [TDeps[number]] extends [never]
    ? Record<string, unknown>
    : {
        [D in TDeps[number] as D extends StageLike ? D["id"] : D & string]: D extends StageLike
          ? InferStageOutput<D>
          : unknown;
      };

type InputOf<TInput extends z.ZodType | "none"> = TInput extends z.ZodType
  ? z.output<TInput>
  : NoInput;

interface StageDefinitionBase<
  TId extends string,
  TInput extends z.ZodType | "none",
  TOutput extends z.ZodType,
  TConfig extends z.ZodType,
  TDeps extends readonly StageDependency[],
> {
  /** Unique within a workflow: lowercase letters, digits and dashes. */
  id: TId;
  name: string;
  description?: string;
  /**
   * Stages whose outputs this stage reads with `ctx.require`. Pass the stage objects to have
   * `require` typed by their outputs; `build()` checks they run earlier.
   */
  dependencies?: TDeps;
  schemas: {
    /** Schema of the previous group's output, or "none" for stages that only use `require`. */
    input: TInput;
    output: TOutput;
    config: TConfig;
  };
  retry?: RetryPolicy;
}

export interface SyncStageDefinition<
  TId extends string,
  TInput extends z.ZodType | "none",
  TOutput extends z.ZodType,
  TConfig extends z.ZodType,
  TDeps extends readonly StageDependency[],
> extends StageDefinitionBase<TId, TInput, TOutput, TConfig, TDeps> {
  execute(
    ctx: StageContext<InputOf<TInput>, z.output<TConfig>, DependencyContext<TDeps>>,
  ): Promise<StageResult<z.input<TOutput>>>;
}

export interface AsyncBatchStageDefinition<
  TId extends string,
  TInput extends z.ZodType | "none",
  TOutput extends z.ZodType,
  TConfig extends z.ZodType,
  TDeps extends readonly StageDependency[],
> extends StageDefinitionBase<TId, TInput, TOutput, TConfig, TDeps> {
  mode?: "async-batch";
  execute(
    ctx: StageContext<InputOf<TInput>, z.output<TConfig>, DependencyContext<TDeps>>,
  ): Promise<StageResult<z.input<TOutput>> | SuspendedResult>;
  checkCompletion(
    state: SuspendedState,
    ctx: CheckCompletionContext<z.output<TConfig>>,
  ): Promise<CompletionCheckResult<z.input<TOutput>>>;
}

export class InvalidStageDefinitionError extends Error {
  override name = "InvalidStageDefinitionError";
}

function dependencyIds(deps: readonly StageDependency[] | undefined): string[] {
  return (deps ?? []).map((d) => (typeof d === "string" ? d : d.id));
}

function buildStage(
  definition: StageDefinitionBase<string, z.ZodType | "none", z.ZodType, z.ZodType, readonly StageDependency[]>,
  mode: "sync" | "async-batch",
  execute: StageLike["execute"],
  checkCompletion?: StageLike["checkCompletion"],
): StageLike {
  assertValidStageId(definition.id);
  if (!definition.name) throw new InvalidStageDefinitionError(`Stage "${definition.id}" needs a name`);
  const { input, output, config } = definition.schemas ?? {};
  if (!output || !config || !input) {
    throw new InvalidStageDefinitionError(
      `Stage "${definition.id}" needs schemas.input, schemas.output and schemas.config`,
    );
  }
  return Object.freeze({
    id: definition.id,
    name: definition.name,
    description: definition.description,
    mode,
    dependencies: dependencyIds(definition.dependencies),
    inputSchema: input === "none" ? NoInputSchema : input,
    outputSchema: output,
    configSchema: config,
    retry: definition.retry,
    execute,
    checkCompletion,
  });
}

/**
 * Define a stage: typed input, output and config, and the code that turns one into the other.
 *
 * @example
 * ```ts
 * const extract = defineStage({
 *   id: "extract-text",
 *   name: "Extract Text",
 *   schemas: {
 *     input: z.object({ url: z.string() }),
 *     output: z.object({ text: z.string() }),
 *     config: z.object({ maxLength: z.number().default(50_000) }),
 *   },
 *   async execute(ctx) {
 *     return { output: { text: `fetched ${ctx.input.url}`.slice(0, ctx.config.maxLength) } };
 *   },
 * });
 * ```
 */
export function defineStage<
  const TId extends string,
  TInput extends z.ZodType | "none",
  TOutput extends z.ZodType,
  TConfig extends z.ZodType,
  const TDeps extends readonly StageDependency[] = [],
>(
  definition: SyncStageDefinition<TId, TInput, TOutput, TConfig, TDeps>,
): Stage<TId, InputOf<TInput>, z.output<TOutput>, z.output<TConfig>, DependencyContext<TDeps>> {
  return buildStage(
    definition,
    "sync",
    definition.execute as StageLike["execute"],
  ) as unknown as Stage<TId, InputOf<TInput>, z.output<TOutput>, z.output<TConfig>, DependencyContext<TDeps>>;
}

/**
 * Define a stage that submits long-running work (a provider batch job), suspends, and resumes
 * when `checkCompletion` reports the work done.
 */
export function defineAsyncBatchStage<
  const TId extends string,
  TInput extends z.ZodType | "none",
  TOutput extends z.ZodType,
  TConfig extends z.ZodType,
  const TDeps extends readonly StageDependency[] = [],
>(
  definition: AsyncBatchStageDefinition<TId, TInput, TOutput, TConfig, TDeps>,
): Stage<TId, InputOf<TInput>, z.output<TOutput>, z.output<TConfig>, DependencyContext<TDeps>> {
  if (typeof definition.checkCompletion !== "function") {
    throw new InvalidStageDefinitionError(
      `Async-batch stage "${definition.id}" needs a checkCompletion function`,
    );
  }
  return buildStage(
    definition,
    "async-batch",
    definition.execute as StageLike["execute"],
    definition.checkCompletion as StageLike["checkCompletion"],
  ) as unknown as Stage<TId, InputOf<TInput>, z.output<TOutput>, z.output<TConfig>, DependencyContext<TDeps>>;
}

// Stage ids ------------------------------------------------------------------------------------

const STAGE_ID_PATTERN = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;
export const MAX_STAGE_ID_LENGTH = 64;

export function isValidStageId(id: unknown): id is string {
  return typeof id === "string" && id.length <= MAX_STAGE_ID_LENGTH && STAGE_ID_PATTERN.test(id);
}

export function assertValidStageId(id: unknown): asserts id is string {
  if (!isValidStageId(id)) {
    throw new InvalidStageDefinitionError(
      `Invalid stage id ${JSON.stringify(id)}: use lowercase letters, digits, "-" or "_", ` +
        `starting with a letter, at most ${MAX_STAGE_ID_LENGTH} characters (e.g. "extract-text")`,
    );
  }
}
