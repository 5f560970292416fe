import type { RunView, Status } from "../api/types.js";
import type { ClientCredentials, ClientCredentialsProvider } from "./signing.js";

/** The shape the client needs from a workflow to type its calls: `Workflow` matches it. */
export interface WorkflowTypeSource {
  readonly id: string;
  readonly __types?: { readonly input: unknown; readonly output: unknown };
}

/** The user's workflows keyed by workflow id, e.g. `{ "document-processor": documentWorkflow }`. */
export type WorkflowCatalog = Readonly<Record<string, WorkflowTypeSource>>;

/** Workflow ids a client accepts: the catalog's keys, or any string for an untyped client. */
export type WorkflowIdOf<W extends WorkflowCatalog> = Extract<keyof W, string>;

/** Input type of a workflow in the catalog. */
export type WorkflowInputOf<W extends WorkflowCatalog, K extends keyof W> =
  NonNullable<W[K]["__types"]> extends { readonly input: infer I } ? I : unknown;

/** Output type of a workflow in the catalog. */
export type WorkflowOutputOf<W extends WorkflowCatalog, K extends keyof W> =
  NonNullable<W[K]["__types"]> extends { readonly output: infer O } ? O : unknown;

/** Catalog used when the client is created without type parameters: any id, unknown input. */
export type UntypedCatalog = Record<string, { readonly id: string; readonly __types?: { input: unknown; output: unknown } }>;

export interface ClientOptions {
  /** The API's base URL, e.g. the `ApiEndpoint` stack output or `http://localhost:4000`. */
  readonly endpoint: string;
  /** Region the API is deployed in (part of the SigV4 scope). @default process.env.AWS_REGION */
  readonly region?: string;
  /**
   * Credentials to sign with. `false` sends unsigned requests (the local stack needs none).
   * @default the SDK's default credential chain (`fromNodeProviderChain()`)
   */
  readonly credentials?: ClientCredentials | ClientCredentialsProvider | false;
  /** Custom fetch (tests, proxies). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface StartRunOptions {
  /** Per-stage config keyed by stage id. */
  readonly config?: Record<string, unknown>;
  /** 1 (lowest) to 10 (highest). @default 5 */
  readonly priority?: number;
  readonly metadata?: Record<string, unknown>;
  /**
   * Same key, same run: a retried start returns the run the first call created.
   * @default a random UUID per call (retries inside the client reuse it)
   */
  readonly idempotencyKey?: string;
}

export interface ListRunsOptions<TWorkflowId extends string = string> {
  readonly workflowId?: TWorkflowId;
  readonly status?: Status;
  /** 1 to 100. @default 25 */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface WaitForRunOptions {
  /** Give up (with WaitForRunTimeoutError) after this long. @default 600000 (10 min) */
  readonly timeoutMs?: number;
  /** First delay between polls; it doubles up to `maxDelayMs`. @default 500 */
  readonly initialDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** Called with each polled view, e.g. to print progress. */
  readonly onPoll?: (run: RunView) => void;
  /** Stops waiting early (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}
