import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createJobQueues, localAwsEnv } from "../../engine/aws/local/index.js";
import { localAws, localClients, uniqueName } from "../support/emulators/inject.js";
import { createAwsTestStack, waitForRuns } from "./support/stack.js";
import { fiveStageWorkflow } from "./support/workflows.js";

const RUNS = 100;
const WORKERS = 4;
const KILLS = 12;
const workerScript = fileURLToPath(new URL("./support/crash-worker.ts", import.meta.url));

describe("worker processes killed with SIGKILL at random moments", () => {
  const clients = localClients();
  const workers = new Map<number, ChildProcess>();
  const ready = new Set<number>();
  let kills = 0;
  afterAll(() => {
    for (const child of workers.values()) child.kill("SIGKILL");
    clients.destroy();
  });

  function startWorker(slot: number, queueUrls: unknown): Promise<void> {
    const child = spawn(process.execPath, ["--import", "tsx", workerScript], {
      env: {
        ...process.env,
        ...localAwsEnv(localAws()),
        STAGEFLOW_WORKER_ID: `worker-${slot}-${Date.now()}`,
        CRASH_TEST_QUEUE_URLS: JSON.stringify(queueUrls),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    workers.set(slot, child);
    ready.delete(slot);
    return new Promise((resolve) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) {
          ready.add(slot);
          resolve();
        }
      });
      child.once("exit", () => resolve());
    });
  }

  it(`lose no run: ${RUNS} runs of a 5-stage workflow all complete, each stage committed once, events gapless`, async () => {
    const queueUrls = await createJobQueues(clients.sqs, uniqueName("crash"));
    const stack = createAwsTestStack({ resources: localAws(), queueUrls, workflows: [fiveStageWorkflow()], transport: "sqs" });
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { workflowRunId } = await stack.kernel.dispatch({ type: "run.create", idempotencyKey: uniqueName("k"), workflowId: "five-steps", input: { n: i } });
      runIds.push(workflowRunId);
    }

    await Promise.all(Array.from({ length: WORKERS }, (_, slot) => startWorker(slot, queueUrls)));
    // Kill a running worker every few hundred ms while the runs execute; restart it at once.
    while (kills < KILLS) {
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 600));
      const candidates = [...ready];
      if (candidates.length === 0) continue;
      const slot = candidates[Math.floor(Math.random() * candidates.length)];
      ready.delete(slot);
      workers.get(slot)?.kill("SIGKILL");
      kills++;
      void startWorker(slot, queueUrls);
    }
    const finishedDuringChaos = [...(await waitForRuns(stack.persistence, runIds, 0)).values()].filter((s) => s === "COMPLETED").length;

    const statuses = await waitForRuns(stack.persistence, runIds, 100_000);
    for (const child of workers.values()) child.kill("SIGTERM");
    stack.destroy();

    expect(kills).toBe(KILLS);
    // The kills hit runs in flight, not a finished workload.
    expect(finishedDuringChaos).toBeLessThan(RUNS);
    expect([...statuses].filter(([, status]) => status !== "COMPLETED")).toEqual([]);
    for (const [i, runId] of runIds.entries()) {
      const run = await stack.persistence.getRun(runId);
      expect((run?.output as { n: number }).n).toBe(i + 5);
      const events = await stack.persistence.getOutboxEventsByRun(runId);
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, k) => k + 1));
      const completed = events.filter((e) => e.eventType === "stage:completed").map((e) => String(e.payload.stageId));
      expect(completed.sort()).toEqual(["s1", "s2", "s3", "s4", "s5"]);
      expect(events.filter((e) => e.eventType === "workflow:completed")).toHaveLength(1);
    }
  }, 240_000);
});
