/**
 * `npm run demo` (local stack edition): starts DynamoDB Local, fauxqs and the four handlers,
 * then runs the example document-processing workflow through the HTTP API with the typed client,
 * printing each stage as it moves (read back from `GET /runs/{id}/events`), and ends with the
 * output, duration, tokens, cost and the ordered event list. Offline; no AWS account.
 */
import type { EventView } from "../engine/api/types.js";
import { createClient } from "../engine/client/index.js";
import type { PublishedEvent } from "../engine/kernel/index.js";
import { startLocalStack } from "../engine/local-stack/index.js";
import { DEFAULT_MODEL } from "../examples/document-processing/stages.js";
import { SAMPLE_DOCUMENT } from "../examples/document-processing/workflow.js";
import { registry, workflows } from "../examples/registry.js";
import { bold, describeEvent, dim, formatMoney, red, yellow } from "../examples/support/progress-printer.js";

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

async function main(): Promise<number> {
  if (DEFAULT_MODEL.startsWith("local/")) {
    console.log(yellow(`Using the offline model provider (${DEFAULT_MODEL}): deterministic answers, no API key, no network.`));
  }
  console.log(dim("Starting the local stack: DynamoDB Local, fauxqs (SQS + S3), api / worker / maintenance / outbox-publisher handlers..."));
  const stack = await startLocalStack({ registry });
  const stopOnSignal = () => void stack.stop().finally(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    console.log(dim(`API on ${stack.url} (table ${stack.aws.tableName}, queues ${Object.keys(stack.aws.queueUrls).join("/")}, bucket ${stack.aws.bucketName})`));
    const client = createClient<typeof workflowsById>({ endpoint: stack.url, credentials: false });

    const [workflow] = await client.listWorkflows();
    console.log(`${bold("workflow")} ${workflow.id}: ${workflow.groups.map((g) => g.map((s) => `${s.id}${s.mode === "async-batch" ? "*" : ""}`).join(" + ")).join(" → ")}  ${dim("(* suspends and resumes)")}`);

    const startedAt = Date.now();
    const { workflowRunId } = await client.startRun("document-processing", SAMPLE_DOCUMENT);
    console.log(`${bold("POST /runs")} → ${workflowRunId}`);

    // Live progress through the API: read the events that are new since the last poll.
    let lastSequence = 0;
    let printing = Promise.resolve();
    // Polls overlap; chaining keeps each event printed once and in order.
    const printNew = () =>
      (printing = printing.then(async () => {
        const page = await client.getEvents(workflowRunId, { afterSequence: lastSequence });
        for (const event of page.events) printEvent(event, startedAt);
        lastSequence = page.lastSequence;
      }).catch(() => undefined));
    const run = await client.waitForRun<"document-processing">(workflowRunId, {
      timeoutMs: 120_000,
      initialDelayMs: 100,
      maxDelayMs: 250,
      onPoll: () => void printNew(),
    });
    await printNew();

    if (run.status !== "COMPLETED") {
      console.error(red(`Run ended ${run.status}: ${run.errorMessage ?? ""}`));
      return 1;
    }
    console.log(`\n${bold("Output")} ${dim(`(GET /runs/${workflowRunId})`)}`);
    console.log(JSON.stringify(run.output, null, 2));
    console.log(`\n${bold("Per stage")} ${dim("(GET /runs/{id}/stages)")}`);
    for (const stage of await client.getStages(workflowRunId)) {
      const m = stage.metrics ?? {};
      console.log(`  ${stage.stageId.padEnd(18)} ${stage.status.padEnd(10)} ${String(stage.duration ?? 0).padStart(5)} ms ${String(m.totalTokens ?? 0).padStart(6)} tokens ${formatMoney(m.totalCost ?? 0)}`);
    }
    console.log(`\n${bold("Run")}: ${run.duration} ms, ${run.totalTokens} tokens, ${formatMoney(run.totalCost)}`);

    // Events reach "EventBridge" (recorded locally) through the DynamoDB stream; wait for the last.
    const deadline = Date.now() + 10_000;
    while (!stack.events.some((e) => e.workflowRunId === workflowRunId && e.type === "workflow:completed") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const all = (await client.getEvents(workflowRunId, { limit: 1000 })).events;
    // Delivery is at-least-once (stream publisher and the maintenance flush may both send an
    // event); consumers de-duplicate on the stable eventId, as done here.
    const deliveries = stack.events.filter((e) => e.workflowRunId === workflowRunId);
    const firstDeliveries = deliveries.filter((e, i) => deliveries.findIndex((d) => d.eventId === e.eventId) === i);
    const inOrder = firstDeliveries.every((e, i) => e.sequence === i + 1);
    console.log(`\n${bold("Events")} (${all.length}, in order): ${all.map((e) => `${e.sequence}:${e.type}`).join(" ")}`);
    console.log(
      dim(
        `Event bus (recorded locally): ${firstDeliveries.length} of ${all.length} events, ${inOrder ? "in sequence order" : red("OUT OF ORDER")}` +
          (deliveries.length > firstDeliveries.length ? `, ${deliveries.length - firstDeliveries.length} duplicate deliveries dropped by eventId` : ""),
      ),
    );
    return 0;
  } finally {
    await stack.stop();
  }
}

function printEvent(event: EventView, startedAt: number): void {
  const line = describeEvent({ ...(event.payload as unknown as PublishedEvent), eventId: event.id, sequence: event.sequence }, startedAt);
  if (line) console.log(line);
}

const workflowsById = Object.fromEntries(workflows.map((w) => [w.id, w]));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
