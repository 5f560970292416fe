import { randomUUID } from "node:crypto";
import { z } from "zod";
import { TERMINAL_STATUSES, type Status } from "../core/types.js";
import type { CommandResult, KernelCommand } from "../kernel/commands.js";
import { RunNotFoundError } from "../kernel/errors.js";
import type { BlobStore, Persistence, WorkflowRegistry } from "../kernel/ports.js";
import { ApiRequestError, toErrorResponse } from "./errors.js";
import { json, type ApiRequest, type ApiResponse } from "./http.js";
import type {
  ApiIssue,
  CancelRunResponse,
  ListEventsResponse,
  ListRunsResponse,
  ListStagesResponse,
  ListWorkflowsResponse,
  RerunResponse,
  StartRunResponse,
} from "./types.js";
import { eventView, runSummary, runView, stageView, workflowView } from "./views.js";

/** The part of the kernel the API uses; `createKernel`'s result has it. */
export interface ApiKernel {
  dispatch<C extends KernelCommand>(command: C): Promise<CommandResult<C>>;
}

export interface ApiRouterDeps {
  readonly kernel: ApiKernel;
  /** Read side: runs, stages and events are read straight from persistence. */
  readonly persistence: Persistence;
  /** Resolves outputs that were too large to stay inline. */
  readonly blobStore: BlobStore;
  readonly registry: WorkflowRegistry;
  /** Larger request bodies get 413. @default 262144 (256 KiB) */
  readonly maxBodyBytes?: number;
  /** Called with every error that is not the caller's fault (answered with a 500). */
  readonly onUnexpectedError?: (error: unknown, request: ApiRequest) => void;
}

/** Handles one request; never throws. */
export interface ApiRouter {
  handle(request: ApiRequest): Promise<ApiResponse>;
}

const STATUSES = ["PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "FAILED", "CANCELLED", "SKIPPED"] as const satisfies readonly Status[];

const StartRunBody = z.strictObject({
  workflowId: z.string().min(1).max(256),
  input: z.unknown(),
  config: z.record(z.string(), z.unknown()).optional(),
  priority: z.number().int().min(1).max(10).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
const RerunBody = z.strictObject({ fromStageId: z.string().min(1).max(256) });
const CancelBody = z.strictObject({ reason: z.string().max(1024).optional() });
const ListRunsQuery = z.object({
  workflowId: z.string().min(1).max(256).optional(),
  status: z.enum(STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(4096).optional(),
});
const ListEventsQuery = z.object({
  afterSequence: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const IdempotencyKey = z.string().min(1).max(256);

type Handler = (request: ApiRequest, params: Record<string, string>) => Promise<ApiResponse>;

/**
 * The stageflow HTTP API over a kernel and its persistence, independent of any HTTP framework:
 * Lambda (API Gateway HTTP API) and the local stack's node:http server both call `handle`.
 * Every mistake a caller can make is a 4xx with an `{ error: { code, message, issues? } }` body.
 *
 * @example
 * ```ts
 * const router = createApiRouter({ kernel, persistence, blobStore, registry });
 * const response = await router.handle({ method: "GET", path: "/workflows", query: {}, headers: {}, body: null });
 * ```
 */
export function createApiRouter(deps: ApiRouterDeps): ApiRouter {
  const maxBodyBytes = deps.maxBodyBytes ?? 256 * 1024;

  async function existingRun(id: string) {
    const run = await deps.persistence.getRun(id);
    if (!run) throw new RunNotFoundError(id);
    return run;
  }

  const routes: [method: string, pattern: RegExp, handler: Handler][] = [
    [
      "POST",
      /^\/runs$/,
      async (request) => {
        const body = parse(StartRunBody, readJson(request, maxBodyBytes), "body");
        const idempotencyKey = parse(IdempotencyKey, request.headers["idempotency-key"] ?? randomUUID(), "Idempotency-Key header");
        const result = await deps.kernel.dispatch({
          type: "run.create",
          idempotencyKey,
          workflowId: body.workflowId,
          input: body.input,
          config: body.config,
          priority: body.priority,
          metadata: body.metadata,
        });
        const response: StartRunResponse = { workflowRunId: result.workflowRunId, status: result.status };
        return json(201, response, { location: `/runs/${encodeURIComponent(result.workflowRunId)}` });
      },
    ],
    [
      "GET",
      /^\/runs$/,
      async (request) => {
        const query = parse(ListRunsQuery, request.query, "query");
        let page;
        try {
          page = await deps.persistence.listRuns(query);
        } catch (error) {
          // The cursor is the only caller-controlled value left unchecked: a stale or edited one
          // fails inside the adapter.
          if (query.cursor !== undefined) throw invalidCursor();
          throw error;
        }
        const response: ListRunsResponse = { runs: page.runs.map(runSummary), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
        return json(200, response);
      },
    ],
    ["GET", /^\/runs\/(?<id>[^/]+)$/, async (_request, { id }) => json(200, await runView(await existingRun(id), deps.blobStore))],
    [
      "GET",
      /^\/runs\/(?<id>[^/]+)\/stages$/,
      async (_request, { id }) => {
        await existingRun(id);
        const stages = await deps.persistence.getStagesByRun(id);
        stages.sort((a, b) => a.stageNumber - b.stageNumber);
        const response: ListStagesResponse = { stages: await Promise.all(stages.map((s) => stageView(s, deps.blobStore))) };
        return json(200, response);
      },
    ],
    [
      "GET",
      /^\/runs\/(?<id>[^/]+)\/events$/,
      async (request, { id }) => {
        const query = parse(ListEventsQuery, request.query, "query");
        await existingRun(id);
        const events = await deps.persistence.getOutboxEventsByRun(id, query);
        const response: ListEventsResponse = {
          events: events.map(eventView),
          lastSequence: events.at(-1)?.sequence ?? query.afterSequence ?? 0,
        };
        return json(200, response);
      },
    ],
    [
      "POST",
      /^\/runs\/(?<id>[^/]+)\/cancel$/,
      async (request, { id }) => {
        const body = parse(CancelBody, readJson(request, maxBodyBytes, {}), "body");
        const run = await existingRun(id);
        if (TERMINAL_STATUSES.has(run.status)) {
          throw new ApiRequestError(409, "InvalidState", `Run "${id}" is ${run.status}; only PENDING, RUNNING or SUSPENDED runs can be cancelled`);
        }
        const result = await deps.kernel.dispatch({ type: "run.cancel", workflowRunId: id, reason: body.reason });
        const response: CancelRunResponse = { workflowRunId: id, cancelled: result.cancelled };
        return json(200, response);
      },
    ],
    [
      "POST",
      /^\/runs\/(?<id>[^/]+)\/rerun$/,
      async (request, { id }) => {
        const body = parse(RerunBody, readJson(request, maxBodyBytes), "body");
        await existingRun(id);
        const result = await deps.kernel.dispatch({ type: "run.rerunFrom", workflowRunId: id, fromStageId: body.fromStageId });
        const response: RerunResponse = { workflowRunId: result.workflowRunId, fromStageId: result.fromStageId, deletedStages: result.deletedStages };
        return json(200, response);
      },
    ],
    [
      "GET",
      /^\/workflows$/,
      async () => {
        const response: ListWorkflowsResponse = { workflows: (deps.registry.listWorkflows?.() ?? []).map(workflowView) };
        return json(200, response);
      },
    ],
  ];

  return {
    async handle(request) {
      try {
        const path = request.path.length > 1 ? request.path.replace(/\/+$/, "") : request.path;
        const matching = routes.filter(([, pattern]) => pattern.test(path));
        if (matching.length === 0) throw new ApiRequestError(404, "NotFound", `No route for ${request.method} ${request.path}`);
        const route = matching.find(([method]) => method === request.method.toUpperCase());
        if (!route) {
          const allowed = matching.map(([method]) => method).join(", ");
          throw new ApiRequestError(405, "MethodNotAllowed", `${request.method} is not allowed on ${request.path} (allowed: ${allowed})`, undefined, { allow: allowed });
        }
        const params = Object.fromEntries(Object.entries(route[1].exec(path)?.groups ?? {}).map(([k, v]) => [k, safeDecode(v)]));
        return await route[2](request, params);
      } catch (error) {
        return toErrorResponse(error, (unexpected) => deps.onUnexpectedError?.(unexpected, request));
      }
    },
  };
}

function readJson(request: ApiRequest, maxBodyBytes: number, whenEmpty?: unknown): unknown {
  const body = request.body ?? "";
  if (Buffer.byteLength(body) > maxBodyBytes) {
    throw new ApiRequestError(413, "PayloadTooLarge", `Request body is larger than ${maxBodyBytes} bytes; store large inputs elsewhere (e.g. S3) and pass a reference`);
  }
  if (body.trim() === "") {
    if (whenEmpty !== undefined) return whenEmpty;
    throw new ApiRequestError(400, "BadRequest", "Request body is empty; send a JSON object");
  }
  try {
    // The body is read as JSON whatever the Content-Type says (curl -d sends form-urlencoded).
    return JSON.parse(body);
  } catch (error) {
    const contentType = request.headers["content-type"];
    const hint = contentType && !/json/i.test(contentType) ? ` (Content-Type was "${contentType}"; send application/json)` : "";
    throw new ApiRequestError(400, "MalformedJson", `Request body is not valid JSON: ${(error as Error).message}${hint}`);
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ApiIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.filter((p): p is string | number => typeof p !== "symbol"),
    message: issue.message,
    code: issue.code,
  }));
  const summary = issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
  throw new ApiRequestError(400, "ValidationError", `Invalid ${what}: ${summary}`, issues);
}

function invalidCursor(): ApiRequestError {
  return new ApiRequestError(400, "BadRequest", "Invalid cursor; pass the nextCursor of the previous page unchanged");
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ApiRequestError(400, "BadRequest", `Malformed percent-encoding in path segment "${value}"`);
  }
}
