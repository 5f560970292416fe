/**
 * `npm run dev`: the local stack for development. DynamoDB Local and fauxqs start, the table,
 * indexes, queues and bucket are created from engine/aws/definitions.ts, the api handler is
 * served on http://localhost:$PORT (default 4000, no SigV4), and the worker, maintenance and
 * outbox-publisher handlers run in-process. Published events are printed as they happen.
 * Ctrl-C stops everything it started, the Java process included.
 */
import { startLocalStack } from "../engine/local-stack/index.js";
import { registry } from "../examples/registry.js";
import { bold, cyan, dim } from "../examples/support/progress-printer.js";

const port = Number(process.env.PORT ?? 4000);
const stack = await startLocalStack({ registry, port, logLevel: (process.env.LOG_LEVEL as "INFO" | undefined) ?? "WARN" });

console.log(`${bold("stageflow local stack")} on ${cyan(stack.url)}`);
console.log(dim(`  DynamoDB Local ${stack.aws.dynamoEndpoint}   SQS + S3 (fauxqs) ${stack.aws.sqsS3Endpoint}   table ${stack.aws.tableName}`));
console.log(dim(`  Try: curl ${stack.url}/workflows`));
console.log(dim(`       curl -X POST ${stack.url}/runs -H 'content-type: application/json' -d '{"workflowId":"document-processing","input":{"title":"Hello","text":"One paragraph.\\n\\nAnother one."}}'`));
console.log(dim("  Ctrl-C stops everything.\n"));

stack.onEvent((event) => {
  const detail = "stageId" in event ? ` ${event.stageId}` : "";
  console.log(`${dim(event.timestamp)} ${event.workflowRunId.slice(0, 8)} #${String(event.sequence).padEnd(3)} ${event.type}${detail}`);
});

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(dim("\nStopping the local stack..."));
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
