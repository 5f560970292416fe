/**
 * vitest global setup of the "integration" project: one DynamoDB Local and one fauxqs for the
 * whole run, on free ports, provisioned from engine/aws/definitions.ts. Tests read the endpoints
 * with `inject("localAws")` (see ./inject.ts). The emulators stop in the teardown, and on
 * SIGINT / SIGTERM / crash through the reaper in engine/aws/local.
 */
import type { TestProject } from "vitest/node";
import { localAwsEnv, startLocalAws, stopLocalAws, type LocalAwsResources } from "../../../engine/aws/local/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    localAws: LocalAwsResources;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const local = await startLocalAws();
  const resources: LocalAwsResources = {
    dynamoEndpoint: local.dynamoEndpoint,
    sqsS3Endpoint: local.sqsS3Endpoint,
    region: local.region,
    credentials: local.credentials,
    tableName: local.tableName,
    bucketName: local.bucketName,
    queueUrls: local.queueUrls,
  };
  project.provide("localAws", resources);
  // Child processes spawned by tests (crash-safety workers) find the stack through the environment.
  Object.assign(process.env, localAwsEnv(resources));
  return async () => {
    await stopLocalAws(local);
  };
}
