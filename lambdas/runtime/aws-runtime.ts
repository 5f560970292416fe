/** The runtime on AWS: clients and names from the environment the WorkflowEngine construct sets. */
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { createDynamoAICallLogger, createEventBridgeEventSink, createEventBridgeScheduler, ENV_VARS } from "../../engine/aws/index.js";
import type { Scheduler, WorkflowRegistry } from "../../engine/kernel/ports.js";
import { createAwsClients, createEngineRuntime, requireEnv, resourceNamesFromEnv, type EngineRuntime } from "./engine-runtime.js";
import type { Observability } from "./observability.js";

let cached: EngineRuntime | undefined;

/** Built on first use and kept for the container's lifetime (clients reuse their connections). */
export function awsRuntime(registry: WorkflowRegistry, observability: Observability, env: NodeJS.ProcessEnv = process.env): EngineRuntime {
  if (cached) return cached;
  const { tracer } = observability;
  const clients = createAwsClients(env);
  for (const client of Object.values(clients)) tracer.captureAWSv3Client(client);
  const names = resourceNamesFromEnv(env);
  cached = createEngineRuntime({
    registry,
    ...clients,
    ...names,
    eventSink: createEventBridgeEventSink({
      client: tracer.captureAWSv3Client(new EventBridgeClient({})),
      eventBusName: requireEnv(ENV_VARS.eventBusName, env),
    }),
    scheduler: wakeUpScheduler(env, observability),
    aiCallLogger: createDynamoAICallLogger({ client: clients.dynamo, tableName: names.tableName }),
  });
  return cached;
}

/**
 * One-time EventBridge Scheduler wake-ups aimed at the maintenance function. Without the
 * scheduler settings, suspended stages are still woken by the maintenance tick (every minute).
 */
function wakeUpScheduler(env: NodeJS.ProcessEnv, observability: Observability): Scheduler {
  const targetArn = env[ENV_VARS.schedulerTargetArn];
  const roleArn = env[ENV_VARS.schedulerRoleArn];
  if (!targetArn || !roleArn) return { async schedule() {}, async cancel() {} };
  return createEventBridgeScheduler({
    client: observability.tracer.captureAWSv3Client(new SchedulerClient({})),
    targetArn,
    roleArn,
    groupName: env[ENV_VARS.schedulerGroupName],
  });
}
