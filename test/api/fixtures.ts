import { z } from "zod";
import { defineStage } from "../../engine/core/stage.js";
import { WorkflowBuilder, type Workflow } from "../../engine/core/workflow.js";
import { createKernel } from "../../engine/kernel/index.js";
import type { WorkflowRegistry } from "../../engine/kernel/ports.js";
import { CollectingEventSink, FakeClock, InMemoryBlobStore, InMemoryJobQueue, InMemoryWorkflowPersistence, NoopScheduler } from "../../engine/testing/index.js";
import { createApiRouter, type ApiRequest, type ApiRouterDeps } from "../../engine/api/index.js";

const shout = defineStage({
  id: "shout",
  name: "Shout",
  schemas: { input: z.object({ text: z.string().min(1) }), output: z.object({ loud: z.string() }), config: z.object({ suffix: z.string().default("!") }) },
  async execute(ctx) {
    return { output: { loud: ctx.input.text.toUpperCase() + ctx.config.suffix } };
  },
});
const count = defineStage({
  id: "count",
  name: "Count",
  schemas: { input: z.object({ loud: z.string() }), output: z.object({ loud: z.string(), length: z.number() }), config: z.object({}) },
  async execute(ctx) {
    return { output: { loud: ctx.input.loud, length: ctx.input.loud.length } };
  },
});

export const shoutWorkflow = new WorkflowBuilder("shout", "Shout", "Upper-cases text and counts it", z.object({ text: z.string().min(1) }), z.object({ loud: z.string(), length: z.number() }))
  .pipe(shout)
  .pipe(count)
  .build();

export const testRegistry: WorkflowRegistry = {
  getWorkflow: (id) => (id === shoutWorkflow.id ? shoutWorkflow : undefined),
  listWorkflows: () => [shoutWorkflow as unknown as Workflow],
};

/** The router over a kernel on in-memory adapters, plus a way to run queued jobs. */
export function createTestApi(overrides: Partial<ApiRouterDeps> = {}) {
  const clock = new FakeClock();
  const persistence = new InMemoryWorkflowPersistence({ clock });
  const jobQueue = new InMemoryJobQueue({ clock });
  const blobStore = new InMemoryBlobStore();
  const kernel = createKernel({
    persistence,
    blobStore,
    jobTransport: jobQueue,
    eventSink: new CollectingEventSink(),
    scheduler: new NoopScheduler(),
    clock,
    timers: clock,
    registry: testRegistry,
  });
  const unexpected: unknown[] = [];
  const router = createApiRouter({ kernel, persistence, blobStore, registry: testRegistry, onUnexpectedError: (e) => unexpected.push(e), ...overrides });

  async function call(method: string, path: string, options: { body?: unknown; rawBody?: string; headers?: Record<string, string>; query?: Record<string, string> } = {}) {
    const request: ApiRequest = {
      method,
      path,
      query: options.query ?? {},
      headers: { "content-type": "application/json", ...options.headers },
      body: options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body)),
    };
    const response = await router.handle(request);
    return { status: response.statusCode, headers: response.headers, body: JSON.parse(response.body) as Record<string, any> };
  }

  /** Executes queued jobs until none are left, as a worker would. */
  async function drain(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const job = await jobQueue.dequeue("test-worker");
      if (!job) return;
      const result = await kernel.dispatch({ type: "job.execute", workflowRunId: job.workflowRunId, workflowId: job.workflowId, stageId: job.stageId, jobId: job.jobId, workerId: "test-worker" });
      if (result.outcome === "suspended" && result.nextPollAt) await jobQueue.suspend(job.jobId, result.nextPollAt);
      else await jobQueue.complete(job.jobId);
    }
    throw new Error("jobs did not drain");
  }

  return { router, call, drain, kernel, persistence, clock, unexpected };
}
