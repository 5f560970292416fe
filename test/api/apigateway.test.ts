import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { fromApiGatewayEvent, toApiGatewayResult } from "../../engine/api/index.js";

function event(overrides: Partial<APIGatewayProxyEventV2> & { method?: string; stage?: string }): APIGatewayProxyEventV2 {
  const { method = "GET", stage = "$default", ...rest } = overrides;
  return {
    version: "2.0",
    routeKey: `${method} /runs/{id}`,
    rawPath: "/runs/abc",
    rawQueryString: "",
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "api.example.com",
      domainPrefix: "api",
      http: { method, path: "/runs/abc", protocol: "HTTP/1.1", sourceIp: "1.2.3.4", userAgent: "test" },
      requestId: "req",
      routeKey: `${method} /runs/{id}`,
      stage,
      time: "",
      timeEpoch: 0,
    },
    ...rest,
  };
}

describe("the API Gateway adapter", () => {
  it("decodes base64 bodies and lower-cases header names", () => {
    const request = fromApiGatewayEvent(event({ method: "POST", body: Buffer.from('{"a":1}').toString("base64"), isBase64Encoded: true, headers: { "Idempotency-Key": "k" } }));
    expect(request).toMatchObject({ method: "POST", body: '{"a":1}', headers: { "idempotency-key": "k" } });
  });

  it("strips a named stage from the path so routes match on every stage", () => {
    expect(fromApiGatewayEvent(event({ rawPath: "/prod/runs/abc", stage: "prod" })).path).toBe("/runs/abc");
    expect(fromApiGatewayEvent(event({ rawPath: "/runs/abc" })).path).toBe("/runs/abc");
  });

  it("passes the router's status, headers and body through unchanged", () => {
    expect(toApiGatewayResult({ statusCode: 404, headers: { "content-type": "application/json" }, body: "{}" })).toEqual({
      statusCode: 404,
      headers: { "content-type": "application/json" },
      body: "{}",
      isBase64Encoded: false,
    });
  });
});
