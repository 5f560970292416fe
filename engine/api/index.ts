/** The stageflow HTTP API: a framework-agnostic router plus API Gateway and node:http adapters. */
export { createApiRouter, type ApiKernel, type ApiRouter, type ApiRouterDeps } from "./router.js";
export { fromApiGatewayEvent, toApiGatewayResult } from "./apigateway.js";
export { createNodeHttpListener } from "./node-http.js";
export { ApiRequestError } from "./errors.js";
export type { ApiRequest, ApiResponse } from "./http.js";
export type * from "./types.js";
