/**
 * `npm run demo` (in-memory edition): runs the example document-processing workflow through the
 * node host on in-memory adapters and prints each stage as it moves, then the run's result.
 */
import { createKernel } from "../engine/kernel/index.js";
import type { PublishedEvent } from "../engine/kernel/index.js";
import { createNodeHost } from "../engine/hosts/node/index.js";
import { InMemoryAICallLogger, InMemoryJobQueue, InMemoryWorkflowPersistence } from "../engine/testing/index.js";
import { InMemoryBlobStore, NoopScheduler } from "../engine/kernel/testing/index.js";
import { resolveStoredValue } from "../engine/kernel/index.js";
import { registry } from "./registry.js";
import { SAMPLE_DOCUMENT } from "./document-processing/workflow.js";
import { DEFAULT_MODEL } from "./document-processing/stages.js";
import { bold, describeEvent, dim, formatMoney, yellow } from "./support/progress-printer.js";

const clock = { now: () => new Date() };
const persistence = new InMemoryWorkflowPersistence({ clock });
const jobTransport = new InMemoryJobQueue({ clock });
const blobStore = new InMemoryBlobStore();
const aiCallLogger = new InMemoryAICallLogger({ clock });
const events: PublishedEvent[] = [];
const startedAt = Date.now();

const kernel = createKernel({
  persistence,
  blobStore,
  jobTransport,
  scheduler: new NoopScheduler(),
  clock,
  registry,
  aiCallLogger,
  eventSink: {
    async emit(event) {
      events.push(event);
      const line = describeEvent(event, startedAt);
      if (line) console.log(line);
    },
  },
});

// A short tick so the suspended batch stage is polled promptly in the demo.
const host = createNodeHost({ kernel, jobTransport, workerId: "demo-worker", concurrency: 4, orchestrationIntervalMs: 250, handleSignals: false });

async function main() {
  if (DEFAULT_MODEL.startsWith("local/")) {
    console.log(yellow(`Using the offline model provider (${DEFAULT_MODEL}): deterministic answers, no API key, no network.`));
  }
  console.log(dim("Adapters: in-memory (persistence, job queue, blobs, events)."));
  await host.start();
  const { workflowRunId } = await kernel.dispatch({
    type: "run.create",
    idempotencyKey: `demo-${startedAt}`,
    workflowId: "document-processing",
    input: SAMPLE_DOCUMENT,
  });
  console.log(`${bold("run")} ${workflowRunId}`);

  const deadline = Date.now() + 60_000;
  let run = await persistence.getRun(workflowRunId);
  while (run && !["COMPLETED", "FAILED", "CANCELLED"].includes(run.status) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    run = await persistence.getRun(workflowRunId);
  }
  await kernel.dispatch({ type: "outbox.flush" });
  await host.stop();
  if (!run || run.status !== "COMPLETED") {
    console.error(`Run ended ${run?.status ?? "missing"}: ${run?.errorMessage ?? "timed out"}`);
    process.exitCode = 1;
    return;
  }

  console.log(`\n${bold("Output")}`);
  console.log(JSON.stringify(await resolveStoredValue(kernel.config, run.output), null, 2));
  console.log(`\n${bold("Per stage")}`);
  for (const stage of await persistence.getStagesByRun(workflowRunId)) {
    const m = stage.metrics ?? {};
    console.log(`  ${stage.stageId.padEnd(18)} ${String(stage.status).padEnd(10)} ${String(stage.duration ?? 0).padStart(5)} ms ${String(m.totalTokens ?? 0).padStart(6)} tokens ${formatMoney(m.totalCost ?? 0)}`);
  }
  console.log(`\n${bold("Run")}: ${run.duration} ms, ${run.totalTokens} tokens, ${formatMoney(run.totalCost)}`);
  console.log(`\n${bold("Events")} (${events.length}, in order): ${events.map((e) => `${e.sequence}:${e.type}`).join(" ")}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
