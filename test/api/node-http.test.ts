import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createNodeHttpListener } from "../../engine/api/index.js";
import { createTestApi } from "./fixtures.js";

describe("the node:http listener", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(maxBodyBytes?: number): Promise<string> {
    server = createServer(createNodeHttpListener(createTestApi().router, { maxBodyBytes }));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("serves the router: a run started over HTTP can be read back", async () => {
    const url = await serve();
    const started = await fetch(`${url}/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ workflowId: "shout", input: { text: "hi" } }) });
    expect(started.status).toBe(201);
    const { workflowRunId } = (await started.json()) as { workflowRunId: string };
    const run = await fetch(`${url}/runs/${workflowRunId}`);
    expect(await run.json()).toMatchObject({ id: workflowRunId, workflowId: "shout" });
  });

  it("answers 413 without buffering a body above the limit", async () => {
    const url = await serve(1024);
    const response = await fetch(`${url}/runs`, { method: "POST", body: "x".repeat(4096) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "PayloadTooLarge" } });
  });
});
