import { describe, expect, it } from "vitest";
import { createTestApi } from "./fixtures.js";

describe("the HTTP API", () => {
  it("starts a run, which then completes with its output, stages in plan order and gapless events", async () => {
    const api = createTestApi();

    const started = await api.call("POST", "/runs", { body: { workflowId: "shout", input: { text: "hello" } } });
    expect(started.status).toBe(201);
    expect(started.headers.location).toBe(`/runs/${started.body.workflowRunId}`);
    const id = started.body.workflowRunId as string;
    await api.drain();

    const run = await api.call("GET", `/runs/${id}`);
    expect(run.body).toMatchObject({ id, workflowId: "shout", status: "COMPLETED", input: { text: "hello" }, output: { loud: "HELLO!", length: 6 }, totalCost: 0 });
    const stages = await api.call("GET", `/runs/${id}/stages`);
    expect(stages.body.stages.map((s: { stageId: string; status: string }) => [s.stageId, s.status])).toEqual([
      ["shout", "COMPLETED"],
      ["count", "COMPLETED"],
    ]);
    const events = await api.call("GET", `/runs/${id}/events`);
    const sequences = events.body.events.map((e: { sequence: number }) => e.sequence);
    expect(sequences).toEqual(sequences.map((_: number, i: number) => i + 1));
    expect(events.body.events[0].type).toBe("workflow:created");
    expect(events.body.events.at(-1).type).toBe("workflow:completed");
    expect(events.body.lastSequence).toBe(sequences.length);

    const newer = await api.call("GET", `/runs/${id}/events`, { query: { afterSequence: String(sequences.length - 1) } });
    expect(newer.body.events.map((e: { type: string }) => e.type)).toEqual(["workflow:completed"]);
  });

  it("reads a JSON body sent with curl's default form Content-Type", async () => {
    const api = createTestApi();
    const response = await api.call("POST", "/runs", { rawBody: JSON.stringify({ workflowId: "shout", input: { text: "curl" } }), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(response.status).toBe(201);
  });

  it("returns the same run for a repeated Idempotency-Key", async () => {
    const api = createTestApi();
    const body = { workflowId: "shout", input: { text: "once" } };
    const first = await api.call("POST", "/runs", { body, headers: { "idempotency-key": "k-1" } });
    const second = await api.call("POST", "/runs", { body, headers: { "idempotency-key": "k-1" } });
    expect(second.body.workflowRunId).toBe(first.body.workflowRunId);
    expect((await api.call("GET", "/runs")).body.runs).toHaveLength(1);
  });

  describe("answers every caller mistake with a 4xx JSON error and writes nothing", () => {
    it.each([
      ["malformed JSON", { rawBody: '{"workflowId": "shout", ' }, 400, "MalformedJson"],
      ["an empty body", { rawBody: "" }, 400, "BadRequest"],
      ["a body that is not an object", { body: ["shout"] }, 400, "ValidationError"],
      ["an unknown workflow", { body: { workflowId: "nope", input: {} } }, 404, "WorkflowNotFound"],
      ["an unknown field", { body: { workflowId: "shout", input: { text: "x" }, prio: 3 } }, 400, "ValidationError"],
      ["a priority out of range", { body: { workflowId: "shout", input: { text: "x" }, priority: 11 } }, 400, "ValidationError"],
      ["config for a stage that does not exist", { body: { workflowId: "shout", input: { text: "x" }, config: { nope: {} } } }, 400, "ValidationError"],
      ["a form-encoded body", { rawBody: "workflowId=shout", headers: { "content-type": "application/x-www-form-urlencoded" } }, 400, "MalformedJson"],
      ["an oversized body", { body: { workflowId: "shout", input: { text: "x".repeat(300 * 1024) } } }, 413, "PayloadTooLarge"],
    ])("POST /runs with %s", async (_what, request, status, code) => {
      const api = createTestApi();
      const response = await api.call("POST", "/runs", request);
      expect(response.status).toBe(status);
      expect(response.body.error.code).toBe(code);
      expect((await api.call("GET", "/runs")).body.runs).toEqual([]);
      expect(api.unexpected).toEqual([]);
    });

    it("lists each invalid input field with its path", async () => {
      const api = createTestApi();
      const response = await api.call("POST", "/runs", { body: { workflowId: "shout", input: { text: "" } } });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: "ValidationError", issues: [{ path: ["input", "text"], message: expect.any(String) }] });
      expect(response.body.error.message).toContain("text");
    });

    it("for unknown runs, routes and methods", async () => {
      const api = createTestApi();
      expect((await api.call("GET", "/runs/missing")).body.error.code).toBe("RunNotFound");
      expect((await api.call("GET", "/runs/missing/events")).status).toBe(404);
      expect((await api.call("POST", "/runs/missing/cancel")).status).toBe(404);
      expect((await api.call("POST", "/runs/missing/rerun", { body: { fromStageId: "shout" } })).status).toBe(404);
      expect((await api.call("GET", "/nothing-here")).body.error.code).toBe("NotFound");
      const wrongMethod = await api.call("DELETE", "/runs");
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.allow).toBe("POST, GET");
    });

    it("for bad list filters and a cursor the API did not issue", async () => {
      const api = createTestApi();
      expect((await api.call("GET", "/runs", { query: { status: "DONE" } })).body.error.code).toBe("ValidationError");
      expect((await api.call("GET", "/runs", { query: { limit: "1000" } })).body.error.code).toBe("ValidationError");
      expect((await api.call("GET", "/runs", { query: { cursor: "not-a-cursor" } })).status).toBe(400);
      expect((await api.call("GET", "/runs/x/events", { query: { afterSequence: "-1" } })).status).toBe(400);
    });
  });

  it("cancels an active run, and refuses to cancel a finished one with 409", async () => {
    const api = createTestApi();
    const { body } = await api.call("POST", "/runs", { body: { workflowId: "shout", input: { text: "stop" } } });
    const cancelled = await api.call("POST", `/runs/${body.workflowRunId}/cancel`, { body: { reason: "changed my mind" } });
    expect(cancelled.body).toEqual({ workflowRunId: body.workflowRunId, cancelled: true });
    await api.drain();
    expect((await api.call("GET", `/runs/${body.workflowRunId}`)).body.status).toBe("CANCELLED");

    const again = await api.call("POST", `/runs/${body.workflowRunId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("InvalidState");
  });

  it("reruns a completed run from a stage, refusing unknown stages and runs that are still active", async () => {
    const api = createTestApi();
    const { body } = await api.call("POST", "/runs", { body: { workflowId: "shout", input: { text: "again" } } });
    const id = body.workflowRunId as string;
    expect((await api.call("POST", `/runs/${id}/rerun`, { body: { fromStageId: "count" } })).status).toBe(409);
    await api.drain();

    expect((await api.call("POST", `/runs/${id}/rerun`, { body: { fromStageId: "nope" } })).body.error.code).toBe("StageNotFound");
    expect((await api.call("POST", `/runs/${id}/rerun`, { body: {} })).body.error.code).toBe("ValidationError");
    const rerun = await api.call("POST", `/runs/${id}/rerun`, { body: { fromStageId: "count" } });
    expect(rerun.status).toBe(200);
    expect(rerun.body).toMatchObject({ workflowRunId: id, fromStageId: "count" });
    await api.drain();
    expect((await api.call("GET", `/runs/${id}`)).body).toMatchObject({ status: "COMPLETED", output: { loud: "AGAIN!", length: 6 } });
  });

  it("pages through runs filtered by workflow and status", async () => {
    const api = createTestApi();
    for (const text of ["a", "b", "c"]) await api.call("POST", "/runs", { body: { workflowId: "shout", input: { text } } });
    await api.drain();

    const first = await api.call("GET", "/runs", { query: { workflowId: "shout", status: "COMPLETED", limit: "2" } });
    expect(first.body.runs).toHaveLength(2);
    expect(first.body.runs[0]).not.toHaveProperty("output");
    const second = await api.call("GET", "/runs", { query: { workflowId: "shout", status: "COMPLETED", limit: "2", cursor: first.body.nextCursor } });
    expect(second.body.runs).toHaveLength(1);
    expect(second.body.nextCursor).toBeUndefined();
    const ids = [...first.body.runs, ...second.body.runs].map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(3);
    expect((await api.call("GET", "/runs", { query: { status: "FAILED" } })).body.runs).toEqual([]);
  });

  it("describes each workflow's stage plan and its input as JSON Schema", async () => {
    const api = createTestApi();
    const { body } = await api.call("GET", "/workflows");
    expect(body.workflows).toEqual([
      expect.objectContaining({
        id: "shout",
        groups: [[{ id: "shout", name: "Shout", mode: "sync" }], [{ id: "count", name: "Count", mode: "sync" }]],
        inputSchema: expect.objectContaining({ type: "object", properties: { text: expect.objectContaining({ type: "string", minLength: 1 }) }, required: ["text"] }),
      }),
    ]);
  });

  it("answers an internal failure with a 500 that reveals nothing and reports the error", async () => {
    const api = createTestApi();
    const failing = createTestApi({ persistence: { ...api.persistence, getRun: async () => { throw new Error("connection reset by peer"); } } as never });
    const response = await failing.call("GET", "/runs/abc");
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe("InternalError");
    expect(JSON.stringify(response.body)).not.toContain("connection reset");
    expect(failing.unexpected).toEqual([expect.objectContaining({ message: "connection reset by peer" })]);
  });
});
