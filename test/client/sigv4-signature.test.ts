import { createHash, createHmac } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { createClient } from "../../engine/client/index.js";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "session-token-example",
};
const endpoint = "https://abc123.execute-api.eu-west-1.amazonaws.com";

interface Captured {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A fetch that records what would go on the wire and answers like the API. */
function capturingFetch(responseBody: unknown, status = 200) {
  const requests: Captured[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    requests.push({
      url: new URL(String(input)),
      method: init?.method ?? "GET",
      headers: Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v])),
      body: init?.body === undefined || init.body === null ? undefined : String(init.body),
    });
    return new Response(JSON.stringify(responseBody), { status, headers: { "content-type": "application/json" } });
  };
  return { fetchFn, requests };
}

function amzDateToDate(amzDate: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate)!;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/** Re-signs the request exactly as it went on the wire with the AWS SDK's own signer. */
async function sdkAuthorization(request: Captured): Promise<string> {
  const signer = new SignatureV4({ service: "execute-api", region: "eu-west-1", credentials, sha256: Sha256 });
  const { authorization: _a, ...headers } = request.headers;
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      path: request.url.pathname,
      query: Object.fromEntries(request.url.searchParams),
      headers: { ...headers, host: request.url.host },
      body: request.body,
    },
    { signingDate: amzDateToDate(request.headers["x-amz-date"]) },
  );
  return String(signed.headers.authorization);
}

/** SigV4 from the specification, with nothing but node:crypto, as a second opinion. */
function specAuthorization(request: Captured): string {
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  const hmac = (key: Buffer | string, s: string) => createHmac("sha256", key).update(s).digest();
  const amzDate = request.headers["x-amz-date"];
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...request.headers, host: request.url.host };
  delete headers.authorization;
  const names = Object.keys(headers).sort();
  const canonicalQuery = [...request.url.searchParams]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = [
    request.method,
    request.url.pathname.split("/").map((segment) => encodeURIComponent(segment)).join("/"),
    canonicalQuery,
    names.map((n) => `${n}:${headers[n].trim()}\n`).join(""),
    names.join(";"),
    sha(request.body ?? ""),
  ].join("\n");
  const scope = `${day}/eu-west-1/execute-api/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of ["eu-west-1", "execute-api", "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  return `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
}

describe("the client's SigV4 signature", () => {
  it("matches the AWS SDK signer for a POST with a JSON body and an idempotency key", async () => {
    const { fetchFn, requests } = capturingFetch({ workflowRunId: "run-1", status: "RUNNING" }, 201);
    const client = createClient({ endpoint, region: "eu-west-1", credentials, fetch: fetchFn });

    await client.startRun("document-processor", { url: "https://example.com/a.pdf" }, { idempotencyKey: "key-1" });

    const [sent] = requests;
    expect(sent.headers.authorization).toBe(await sdkAuthorization(sent));
    expect(sent.headers["x-amz-security-token"]).toBe(credentials.sessionToken);
    expect(sent.headers.authorization).toContain("idempotency-key");
  });

  it("matches the AWS SDK signer and the specification for a GET with query parameters", async () => {
    const { fetchFn, requests } = capturingFetch({ runs: [] });
    const client = createClient({ endpoint, region: "eu-west-1", credentials, fetch: fetchFn });

    await client.listRuns({ workflowId: "document processor", status: "COMPLETED", limit: 10, cursor: "a+b/c=" });

    const [sent] = requests;
    expect(sent.headers.authorization).toBe(await sdkAuthorization(sent));
    expect(sent.headers.authorization).toBe(specAuthorization(sent));
  });

  it("signs with credentials from a provider function and sends unsigned requests when credentials are false", async () => {
    const signedFetch = capturingFetch({ workflows: [] });
    await createClient({ endpoint, region: "eu-west-1", credentials: async () => credentials, fetch: signedFetch.fetchFn }).listWorkflows();
    expect(signedFetch.requests[0].headers.authorization).toBe(specAuthorization(signedFetch.requests[0]));

    const unsignedFetch = capturingFetch({ workflows: [] });
    await createClient({ endpoint: "http://localhost:4000", credentials: false, fetch: unsignedFetch.fetchFn }).listWorkflows();
    expect(unsignedFetch.requests[0].headers.authorization).toBeUndefined();
  });
});
