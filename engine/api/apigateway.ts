/** API Gateway HTTP API (payload format 2.0) ⇄ the router's request and response. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { ApiRequest, ApiResponse } from "./http.js";

export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): ApiRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const body = event.body == null ? null : event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    // rawPath keeps the stage prefix on named stages; the http.path never does.
    path: stripStage(event.rawPath, event.requestContext.stage),
    query: { ...(event.queryStringParameters ?? {}) },
    headers,
    body,
  };
}

export function toApiGatewayResult(response: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
}

function stripStage(rawPath: string, stage: string): string {
  if (stage && stage !== "$default" && rawPath.startsWith(`/${stage}/`)) return rawPath.slice(stage.length + 1);
  return rawPath || "/";
}
