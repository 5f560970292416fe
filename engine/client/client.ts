import { randomUUID } from "node:crypto";
import type {
  ApiErrorBody,
  CancelRunResponse,
  ListEventsResponse,
  ListRunsResponse,
  ListStagesResponse,
  ListWorkflowsResponse,
  RerunResponse,
  RunView,
  StageView,
  StartRunRequest,
  StartRunResponse,
  WorkflowView,
} from "../api/types.js";
import { StageflowApiError, WaitForRunTimeoutError } from "./errors.js";
import { signRequest, type ClientCredentials, type ClientCredentialsProvider } from "./signing.js";
import type {
  ClientOptions,
  ListRunsOptions,
  StartRunOptions,
  UntypedCatalog,
  WaitForRunOptions,
  WorkflowCatalog,
  WorkflowIdOf,
  WorkflowInputOf,
  WorkflowOutputOf,
} from "./types.js";

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "SKIPPED"]);
/** Transient answers worth repeating: throttling, gateway hiccups, a start still in progress. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 3;

/** The typed client for a stageflow API. Create it with {@link createClient}. */
export interface StageflowClient<W extends WorkflowCatalog = UntypedCatalog> {
  /** Starts a run; the input is checked against the workflow's schema by the API (400 if wrong). */
  startRun<K extends WorkflowIdOf<W>>(workflowId: K, input: WorkflowInputOf<W, K>, options?: StartRunOptions): Promise<StartRunResponse>;
  getRun<K extends WorkflowIdOf<W> = WorkflowIdOf<W>>(workflowRunId: string): Promise<RunView<WorkflowOutputOf<W, K>>>;
  getStages(workflowRunId: string): Promise<StageView[]>;
  /** Events in sequence order; pass the previous `lastSequence` to read only newer ones. */
  getEvents(workflowRunId: string, options?: { afterSequence?: number; limit?: number }): Promise<ListEventsResponse>;
  listRuns(options?: ListRunsOptions<WorkflowIdOf<W>>): Promise<ListRunsResponse>;
  cancelRun(workflowRunId: string, reason?: string): Promise<CancelRunResponse>;
  rerunFrom(workflowRunId: string, fromStageId: string): Promise<RerunResponse>;
  /** Polls with exponential backoff until the run is COMPLETED, FAILED or CANCELLED. */
  waitForRun<K extends WorkflowIdOf<W> = WorkflowIdOf<W>>(workflowRunId: string, options?: WaitForRunOptions): Promise<RunView<WorkflowOutputOf<W, K>>>;
  listWorkflows(): Promise<WorkflowView[]>;
}

/**
 * Creates a client for the API the `WorkflowEngine` construct deploys (or the local stack).
 * Requests are signed with SigV4 using the default credential chain unless `credentials` says
 * otherwise. Pass your workflows' type to get typed inputs and outputs.
 *
 * @example
 * ```ts
 * import { createClient } from "stageflow/client";
 * import type { workflows } from "./workflows.js"; // { "document-processor": documentWorkflow }
 *
 * const client = createClient<typeof workflows>({ endpoint: process.env.API_URL!, region: "eu-west-1" });
 * const { workflowRunId } = await client.startRun("document-processor", { url: "https://example.com/a.pdf" });
 * const run = await client.waitForRun(workflowRunId);
 * console.log(run.status, run.output, run.totalCost);
 * ```
 */
export function createClient<W extends WorkflowCatalog = UntypedCatalog>(options: ClientOptions): StageflowClient<W> {
  const base = new URL(options.endpoint.endsWith("/") ? options.endpoint : `${options.endpoint}/`);
  const doFetch = options.fetch ?? globalThis.fetch;
  const credentials = resolveCredentials(options.credentials);
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;

  async function request<T>(method: string, path: string, init: { query?: Record<string, string | number | undefined>; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
    const url = new URL(path.replace(/^\//, ""), base);
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers: Record<string, string> = { accept: "application/json", ...options.headers, ...init.headers };
    if (body !== undefined) headers["content-type"] = "application/json";

    let lastError: unknown;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        const signed = await sign(method, url, headers, body);
        const response = await doFetch(url, { method, headers: signed, body });
        const text = await response.text();
        if (response.ok) return (text ? JSON.parse(text) : {}) as T;
        const error = toApiError(response.status, text);
        const retryable = RETRYABLE_STATUS.has(response.status) || error.code === "IdempotencyInProgress";
        if (!retryable || attempt === MAX_ATTEMPTS) throw error;
        lastError = error;
      } catch (error) {
        if (error instanceof StageflowApiError && !RETRYABLE_STATUS.has(error.status) && error.code !== "IdempotencyInProgress") throw error;
        if (attempt === MAX_ATTEMPTS) throw error;
        lastError = error;
      }
      await sleep(200 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    }
    throw lastError;
  }

  async function sign(method: string, url: URL, headers: Record<string, string>, body: string | undefined): Promise<Record<string, string>> {
    if (!credentials) return headers;
    if (!region) throw new Error("createClient: `region` is required to sign requests (or set AWS_REGION)");
    return signRequest({ method, url, headers, body }, { region, credentials: await credentials });
  }

  const runPath = (id: string) => `runs/${encodeURIComponent(id)}`;

  const client: StageflowClient<W> = {
    startRun(workflowId, input, startOptions = {}) {
      const body: StartRunRequest = {
        workflowId,
        input,
        config: startOptions.config,
        priority: startOptions.priority,
        metadata: startOptions.metadata,
      };
      // One key for all attempts, so a retried start never creates a second run.
      const idempotencyKey = startOptions.idempotencyKey ?? randomUUID();
      return request<StartRunResponse>("POST", "runs", { body, headers: { "idempotency-key": idempotencyKey } });
    },
    getRun(workflowRunId) {
      return request("GET", runPath(workflowRunId));
    },
    async getStages(workflowRunId) {
      return (await request<ListStagesResponse>("GET", `${runPath(workflowRunId)}/stages`)).stages;
    },
    getEvents(workflowRunId, eventOptions = {}) {
      return request<ListEventsResponse>("GET", `${runPath(workflowRunId)}/events`, { query: eventOptions });
    },
    listRuns(listOptions = {}) {
      return request<ListRunsResponse>("GET", "runs", { query: { ...listOptions } });
    },
    cancelRun(workflowRunId, reason) {
      return request<CancelRunResponse>("POST", `${runPath(workflowRunId)}/cancel`, { body: reason ? { reason } : {} });
    },
    rerunFrom(workflowRunId, fromStageId) {
      return request<RerunResponse>("POST", `${runPath(workflowRunId)}/rerun`, { body: { fromStageId } });
    },
    async waitForRun(workflowRunId, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? 600_000;
      const maxDelayMs = waitOptions.maxDelayMs ?? 5_000;
      let delay = waitOptions.initialDelayMs ?? 500;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        waitOptions.signal?.throwIfAborted();
        const run = await client.getRun(workflowRunId);
        waitOptions.onPoll?.(run as RunView);
        if (TERMINAL.has(run.status)) return run as never;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new WaitForRunTimeoutError(workflowRunId, run.status, timeoutMs);
        await sleep(Math.min(delay, remaining), waitOptions.signal);
        delay = Math.min(delay * 2, maxDelayMs);
      }
    },
    async listWorkflows() {
      return (await request<ListWorkflowsResponse>("GET", "workflows")).workflows;
    },
  };
  return client;
}

/** Resolves the credential option once; the default chain loads lazily so unsigned use never imports it. */
function resolveCredentials(
  option: ClientOptions["credentials"],
): Promise<ClientCredentials | ClientCredentialsProvider> | undefined {
  if (option === false) return undefined;
  if (option !== undefined) return Promise.resolve(option);
  return import("@aws-sdk/credential-providers").then(({ fromNodeProviderChain }) => fromNodeProviderChain());
}

function toApiError(status: number, text: string): StageflowApiError {
  try {
    const body = JSON.parse(text) as Partial<ApiErrorBody>;
    if (body.error?.code) return new StageflowApiError(status, body.error.code, body.error.message, body.error.issues ?? []);
  } catch {
    // Not our JSON (e.g. API Gateway's own 403 for a bad signature): report the raw text.
  }
  return new StageflowApiError(status, "Unknown", text.slice(0, 500) || `HTTP ${status}`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

