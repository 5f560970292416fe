import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import type { Workflow } from "../../engine/core/workflow.js";
import { createNodeHost } from "../../engine/hosts/node/index.js";
import { localAws, uniqueName } from "../support/emulators/inject.js";
import { createAwsTestStack, waitForRuns, type AwsTestStack } from "./support/stack.js";

const WORKERS = 8;
const RUNS = 40;
const STAGES = 5;

/** (run:stage) → workers that executed it. */
const executions = new Map<string, string[]>();

const counted = (id: string) =>
  defineStage({
    id,
    name: id,
    schemas: { input: z.object({ n: z.number() }), output: z.object({ n: z.number() }), config: z.object({}) },
    async execute(ctx) {
      const key = `${ctx.workflowRunId}:${ctx.stageId}`;
      executions.set(key, [...(executions.get(key) ?? []), process.env.VITEST_POOL_ID ?? "w"]);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      return { output: { n: ctx.input.n + 1 } };
    },
  });

function countingWorkflow(): Workflow {
  let builder = new WorkflowBuilder("counted", "Counted", "Race", z.object({ n: z.number() }), z.object({ n: z.number() })).pipe(counted("c1"));
  for (let i = 2; i <= STAGES; i++) builder = builder.pipe(counted(`c${i}`)) as unknown as typeof builder;
  return builder.build() as unknown as Workflow;
}

describe(`${WORKERS} workers racing on one table`, () => {
  const queueName = uniqueName("race");
  const workflow = countingWorkflow();
  const stacks: AwsTestStack[] = Array.from({ length: WORKERS }, (_, i) =>
    createAwsTestStack({ resources: localAws(), workflows: [workflow], transport: "dynamo", queueName, workerId: `worker-${i}` }),
  );
  afterAll(() => stacks.forEach((s) => s.destroy()));

  it(`execute and commit each of ${RUNS * STAGES} stage jobs exactly once`, async () => {
    const [first] = stacks;
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { workflowRunId } = await first.kernel.dispatch({ type: "run.create", idempotencyKey: uniqueName("k"), workflowId: "counted", input: { n: 0 } });
      runIds.push(workflowRunId);
    }
    const hosts = stacks.map((stack, i) =>
      createNodeHost({
        kernel: stack.kernel,
        jobTransport: stack.transport,
        workerId: `worker-${i}`,
        concurrency: 2,
        jobPollIntervalMs: 10,
        orchestrationIntervalMs: 60_000,
        handleSignals: false,
        flushOutboxAfterJobs: false,
      }),
    );
    await Promise.all(hosts.map((h) => h.start()));
    const statuses = await waitForRuns(first.persistence, runIds, 90_000);
    await Promise.all(hosts.map((h) => h.stop()));

    expect([...statuses.values()].filter((s) => s !== "COMPLETED")).toEqual([]);
    const twice = [...executions].filter(([, by]) => by.length > 1);
    expect(twice).toEqual([]);
    expect(executions.size).toBe(RUNS * STAGES);

    for (const runId of runIds) {
      const run = await first.persistence.getRun(runId);
      expect(run?.output).toEqual({ n: STAGES });
      const events = await first.persistence.getOutboxEventsByRun(runId);
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
      const completions = events.filter((e) => e.eventType === "stage:completed").map((e) => e.payload.stageId);
      expect(completions.sort()).toEqual(Array.from({ length: STAGES }, (_, i) => `c${i + 1}`));
    }
    const processed = hosts.reduce((sum, h) => sum + h.stats().jobsProcessed, 0);
    expect(processed).toBeGreaterThanOrEqual(RUNS * STAGES);
    expect(hosts.filter((h) => h.stats().jobsProcessed > 0).length).toBeGreaterThan(1);
  });
});
