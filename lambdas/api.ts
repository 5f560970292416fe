/** API: API Gateway HTTP API (IAM-authorized) in front of the framework-agnostic router. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createApiRouter, fromApiGatewayEvent, toApiGatewayResult, type ApiRouter } from "../engine/api/index.js";
import type { WorkflowRegistry } from "../engine/kernel/ports.js";
import { METRIC, SERVICE_NAME } from "./metric-names.js";
import { awsRuntime } from "./runtime/aws-runtime.js";
import type { EngineRuntime } from "./runtime/engine-runtime.js";
import { createObservability, instrument, MetricUnit } from "./runtime/observability.js";

export interface ApiHandlerOptions {
  registry: WorkflowRegistry;
  /** @default the AWS runtime from the construct's environment variables */
  runtime?: EngineRuntime;
}

/** Creates the API's Lambda handler. */
export function createApiHandler(options: ApiHandlerOptions) {
  const observability = createObservability(SERVICE_NAME.api);
  const { logger, metrics } = observability;
  let router: ApiRouter | undefined;
  return async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> =>
    instrument(observability, context, async () => {
      if (!router) {
        const runtime = options.runtime ?? awsRuntime(options.registry, observability);
        router = createApiRouter({
          kernel: runtime.kernel,
          persistence: runtime.persistence,
          blobStore: runtime.blobStore,
          registry: options.registry,
          onUnexpectedError: (error, request) => logger.error("Unexpected API error", { error: error as Error, method: request.method, path: request.path }),
        });
      }
      const request = fromApiGatewayEvent(event);
      const response = await router.handle(request);
      if (request.method === "POST" && request.path === "/runs" && response.statusCode === 201) metrics.addMetric(METRIC.runsStarted, MetricUnit.Count, 1);
      logger.info("Request", { method: request.method, path: request.path, status: response.statusCode });
      return toApiGatewayResult(response);
    });
}
