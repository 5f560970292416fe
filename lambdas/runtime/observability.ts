import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { METRIC, METRICS_NAMESPACE } from "../metric-names.js";

export { MetricUnit, METRIC };

/** Powertools logger, metrics and tracer of one handler. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

/**
 * One set per handler module (created at cold start). Outside Lambda (local stack, tests) the
 * tracer is off and metrics are not printed unless POWERTOOLS_METRICS_DISABLED says otherwise.
 */
export function createObservability(serviceName: string): Observability {
  const inLambda = Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);
  if (!inLambda) process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName }),
    tracer: new Tracer({ serviceName, enabled: inLambda }),
  };
}

/** Runs one invocation: Lambda context on every log line, metrics flushed even when it throws. */
export async function instrument<T>(observability: Observability, context: { awsRequestId: string; functionName?: string } | undefined, fn: () => Promise<T>): Promise<T> {
  const { logger, metrics, tracer } = observability;
  if (context && "invokedFunctionArn" in context) logger.addContext(context as never);
  tracer.annotateColdStart();
  try {
    return await fn();
  } catch (error) {
    logger.error("Invocation failed", error as Error);
    throw error;
  } finally {
    // An invocation that recorded nothing (an idle tick) has nothing to flush; skipping avoids a warning per call.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}
