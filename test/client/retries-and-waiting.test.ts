import { describe, expect, it } from "vitest";
import { createClient, StageflowApiError, WaitForRunTimeoutError } from "../../engine/client/index.js";

type Responder = (url: URL, init: RequestInit) => { status: number; body: unknown };

function scriptedFetch(responder: Responder) {
  const calls: { url: URL; init: RequestInit }[] = [];
  const fetchFn: typeof fetch = async (input, init = {}) => {
    const url = new URL(String(input));
    calls.push({ url, init });
    const { status, body } = responder(url, init);
    return new Response(JSON.stringify(body), { status });
  };
  return { fetchFn, calls };
}

const header = (init: RequestInit, name: string) => (init.headers as Record<string, string>)[name];

describe("the client", () => {
  it("retries a start the gateway could not deliver with the same idempotency key, so only one run is created", async () => {
    let attempts = 0;
    const { fetchFn, calls } = scriptedFetch(() =>
      ++attempts === 1 ? { status: 503, body: { message: "Service Unavailable" } } : { status: 201, body: { workflowRunId: "run-1", status: "RUNNING" } },
    );
    const client = createClient({ endpoint: "http://localhost:4000", credentials: false, fetch: fetchFn });

    const started = await client.startRun("demo", { text: "hi" });

    expect(started.workflowRunId).toBe("run-1");
    expect(calls).toHaveLength(2);
    expect(header(calls[0].init, "idempotency-key")).toBeTruthy();
    expect(header(calls[1].init, "idempotency-key")).toBe(header(calls[0].init, "idempotency-key"));
  });

  it("turns an API error body into a StageflowApiError with the code and the invalid fields", async () => {
    const { fetchFn, calls } = scriptedFetch(() => ({
      status: 400,
      body: { error: { code: "ValidationError", message: "Invalid input: url: Invalid URL", issues: [{ path: ["url"], message: "Invalid URL" }] } },
    }));
    const client = createClient({ endpoint: "http://localhost:4000", credentials: false, fetch: fetchFn });

    const error = await client.startRun("demo", { url: "nope" }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StageflowApiError);
    expect(error).toMatchObject({ status: 400, code: "ValidationError", issues: [{ path: ["url"] }] });
    expect(calls).toHaveLength(1);
  });

  it("waits for a run until it reaches a terminal status and reports each poll", async () => {
    const statuses = ["RUNNING", "SUSPENDED", "RUNNING", "COMPLETED"];
    let polls = 0;
    const { fetchFn } = scriptedFetch(() => ({ status: 200, body: { id: "run-1", status: statuses[polls++], output: { ok: true } } }));
    const client = createClient({ endpoint: "http://localhost:4000", credentials: false, fetch: fetchFn });
    const seen: string[] = [];

    const run = await client.waitForRun("run-1", { initialDelayMs: 1, maxDelayMs: 2, onPoll: (r) => seen.push(r.status) });

    expect(run.status).toBe("COMPLETED");
    expect(run.output).toEqual({ ok: true });
    expect(seen).toEqual(statuses);
  });

  it("gives up waiting with a WaitForRunTimeoutError that names the last status", async () => {
    const { fetchFn } = scriptedFetch(() => ({ status: 200, body: { id: "run-1", status: "SUSPENDED" } }));
    const client = createClient({ endpoint: "http://localhost:4000", credentials: false, fetch: fetchFn });

    const error = await client.waitForRun("run-1", { timeoutMs: 5, initialDelayMs: 1 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WaitForRunTimeoutError);
    expect(error).toMatchObject({ workflowRunId: "run-1", lastStatus: "SUSPENDED" });
  });

  it("encodes run ids and list filters into the URL", async () => {
    const { fetchFn, calls } = scriptedFetch(() => ({ status: 200, body: { runs: [], nextCursor: undefined } }));
    const client = createClient({ endpoint: "http://localhost:4000/prod/", credentials: false, fetch: fetchFn });

    await client.listRuns({ workflowId: "demo", status: "FAILED", cursor: "abc" });

    expect(calls[0].url.pathname).toBe("/prod/runs");
    expect(Object.fromEntries(calls[0].url.searchParams)).toEqual({ workflowId: "demo", status: "FAILED", cursor: "abc" });
  });
});
