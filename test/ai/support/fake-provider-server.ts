/**
 * A local HTTP server that speaks the OpenAI, Anthropic and Gemini wire formats, so the real SDKs
 * can be exercised without the network. Tests queue replies (or errors) in a provider-neutral form;
 * each route encodes them the way its provider documents.
 *
 * Base URLs: OpenAI `${url}/openai/v1`, Anthropic `${url}/anthropic`, Gemini `${url}/google`.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as anthropic from "./anthropic-wire.js";
import * as google from "./google-wire.js";
import * as openai from "./openai-wire.js";
import type { FakeError, FakeReply } from "./reply.js";

export type FakeProvider = "openai" | "anthropic" | "google";

export interface RecordedRequest {
  provider: FakeProvider;
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

type Queued = { kind: "reply"; reply: FakeReply } | { kind: "error"; error: FakeError };
type BatchItemOutcome = FakeReply | { error: string };

interface StoredBatch {
  provider: FakeProvider;
  model: string;
  /** custom id → forced JSON tool name (Anthropic) */
  items: { id: string; jsonToolName?: string }[];
  inputFileId?: string;
  statusReads: number;
}

export class FakeProviderServer {
  readonly requests: RecordedRequest[] = [];
  /** Status reads a batch answers "in progress" before it completes. */
  pollsBeforeDone = 1;
  embeddingDimensions = 4;
  /** OpenAI batches end "expired", answering only the items given an outcome with batchItem(). */
  expireOpenAIBatches = false;
  private readonly queue: Queued[] = [];
  private readonly batchOutcomes = new Map<string, BatchItemOutcome>();
  private readonly batches = new Map<string, StoredBatch>();
  private readonly files = new Map<string, string>();
  private ids = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeProviderServer> {
    let instance: FakeProviderServer | undefined;
    const server = createServer((req, res) => {
      instance!.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `fake server bug: ${String(error)}` } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    instance = new FakeProviderServer(server, `http://127.0.0.1:${port}`);
    return instance;
  }

  get openaiBaseURL(): string {
    return `${this.url}/openai/v1`;
  }
  get anthropicBaseURL(): string {
    return `${this.url}/anthropic`;
  }
  get googleBaseURL(): string {
    return `${this.url}/google`;
  }

  /** Answers for the next model requests, in order (a default short answer once they run out). */
  reply(...replies: FakeReply[]): this {
    this.queue.push(...replies.map((reply): Queued => ({ kind: "reply", reply })));
    return this;
  }

  /** The next model request fails with this HTTP error. */
  fail(error: FakeError): this {
    this.queue.push({ kind: "error", error });
    return this;
  }

  /** What a batch item with this custom id answers. */
  batchItem(customId: string, outcome: BatchItemOutcome): this {
    this.batchOutcomes.set(customId, outcome);
    return this;
  }

  requestsTo(pathPart: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.includes(pathPart));
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.batchOutcomes.clear();
    this.pollsBeforeDone = 1;
    this.expireOpenAIBatches = false;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  // Routing -----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? "/", this.url);
    const provider = url.pathname.split("/")[1] as FakeProvider;
    const contentType = String(req.headers["content-type"] ?? "");
    const body = contentType.includes("application/json") && raw.length ? JSON.parse(raw.toString("utf8")) : undefined;
    this.requests.push({ provider, method: req.method ?? "GET", path: url.pathname + url.search, headers: req.headers, body });

    if (provider === "openai") return this.openai(req, res, url, body, raw);
    if (provider === "anthropic") return this.anthropic(req, res, url, body);
    if (provider === "google") return this.google(req, res, url, body);
    sendJson(res, 404, { error: { message: `no route for ${url.pathname}` } });
  }

  private next(): Queued {
    return this.queue.shift() ?? { kind: "reply", reply: { text: "ok" } };
  }

  private newId(prefix: string): string {
    return `${prefix}${(++this.ids).toString().padStart(6, "0")}`;
  }

  // OpenAI ------------------------------------------------------------------------------------

  private async openai(req: IncomingMessage, res: ServerResponse, url: URL, body: any, raw: Buffer): Promise<void> {
    const path = url.pathname.replace(/^\/openai\/v1/, "");
    const method = req.method;
    const modelRequest = method === "POST" && ["/chat/completions", "/responses", "/embeddings"].includes(path);
    const queued = modelRequest ? this.next() : undefined;
    if (queued?.kind === "error") {
      return sendJson(res, queued.error.status, openai.errorBody(queued.error.status, queued.error.message ?? "fake error"), queued.error.headers);
    }
    const reply = queued?.kind === "reply" ? queued.reply : { text: "ok" };

    if (path === "/chat/completions") {
      if (body.stream) return sendSse(res, openai.chatCompletionChunks(body.model, reply, body.stream_options?.include_usage === true).map((data) => ({ data })), true);
      return sendJson(res, 200, openai.chatCompletion(body.model, reply));
    }
    if (path === "/responses") {
      if (body.stream) return sendSse(res, openai.responseEvents(body.model, reply), false);
      return sendJson(res, 200, openai.response(body.model, reply));
    }
    if (path === "/embeddings") {
      const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
      const vectors = inputs.map((text, i) => Array.from({ length: this.embeddingDimensions }, (_, d) => (text.length + i + d) / 100));
      const tokens = reply.usage?.input ?? inputs.join(" ").split(/\s+/).length;
      return sendJson(res, 200, openai.embeddings(body.model, vectors, tokens, body.encoding_format === "base64" ? "base64" : "float"));
    }
    if (path === "/files" && method === "POST") {
      const form = await new Request("http://fake/files", { method: "POST", headers: { "content-type": String(req.headers["content-type"]) }, body: new Uint8Array(raw) }).formData();
      const file = form.get("file") as File;
      const id = this.newId("file-");
      this.files.set(id, await file.text());
      return sendJson(res, 200, openai.fileObject(id, file.size, file.name, String(form.get("purpose"))));
    }
    const fileContent = /^\/files\/([^/]+)\/content$/.exec(path);
    if (fileContent && method === "GET") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return void res.end(this.files.get(fileContent[1]) ?? "");
    }
    if (path === "/batches" && method === "POST") {
      const lines = (this.files.get(body.input_file_id) ?? "").split("\n").filter(Boolean).map((l) => JSON.parse(l));
      const id = this.newId("batch_");
      this.batches.set(id, {
        provider: "openai",
        model: lines[0]?.body?.model ?? "",
        items: lines.map((l) => ({ id: l.custom_id })),
        inputFileId: body.input_file_id,
        statusReads: 0,
      });
      return sendJson(res, 200, openai.batchObject(this.openaiBatchState(id, body.input_file_id)));
    }
    const batchGet = /^\/batches\/([^/]+)$/.exec(path);
    if (batchGet && method === "GET") {
      const stored = this.batches.get(batchGet[1]);
      if (!stored) return sendJson(res, 404, openai.errorBody(404, "No batch found"));
      stored.statusReads++;
      return sendJson(res, 200, openai.batchObject(this.openaiBatchState(batchGet[1], stored.inputFileId ?? "")));
    }
    sendJson(res, 404, openai.errorBody(404, `fake OpenAI has no route ${method} ${path}`));
  }

  private openaiBatchState(id: string, inputFileId: string): openai.OpenAIBatchState {
    const stored = this.batches.get(id)!;
    const total = stored.items.length;
    if (stored.statusReads <= this.pollsBeforeDone) {
      return { id, inputFileId, status: stored.statusReads === 0 ? "validating" : "in_progress", total, completed: 0, failed: 0, outputFileId: null, errorFileId: null };
    }
    const outputFileId = `${id}-output`;
    const errorFileId = `${id}-errors`;
    if (!this.files.has(outputFileId)) {
      const ok: string[] = [];
      const failed: string[] = [];
      for (const item of stored.items) {
        if (this.expireOpenAIBatches && !this.batchOutcomes.has(item.id)) continue;
        const outcome = this.batchOutcomes.get(item.id) ?? { text: `answer for ${item.id}` };
        if ("error" in outcome) failed.push(JSON.stringify(openai.batchErrorLine(item.id, outcome.error)));
        else ok.push(JSON.stringify(openai.batchOutputLine(item.id, stored.model, outcome)));
      }
      this.files.set(outputFileId, ok.join("\n"));
      this.files.set(errorFileId, failed.join("\n"));
    }
    const failedCount = this.files.get(errorFileId)!.split("\n").filter(Boolean).length;
    return {
      id,
      inputFileId,
      status: this.expireOpenAIBatches ? "expired" : "completed",
      total,
      completed: total - failedCount,
      failed: failedCount,
      outputFileId,
      errorFileId: failedCount ? errorFileId : null,
    };
  }

  // Anthropic ---------------------------------------------------------------------------------

  private async anthropic(req: IncomingMessage, res: ServerResponse, url: URL, body: any): Promise<void> {
    const path = url.pathname.replace(/^\/anthropic/, "");
    const method = req.method;
    if (path === "/v1/messages" && method === "POST") {
      const queued = this.next();
      if (queued.kind === "error") {
        return sendJson(res, queued.error.status, anthropic.errorBody(queued.error.status, queued.error.message ?? "fake error"), queued.error.headers);
      }
      if (body.stream) return sendSse(res, anthropic.messageEvents(body.model, queued.reply), false);
      const jsonTool = body.tool_choice?.type === "tool" ? body.tool_choice.name : undefined;
      return sendJson(res, 200, anthropic.message(body.model, queued.reply, jsonTool));
    }
    if (path === "/v1/messages/batches" && method === "POST") {
      const id = this.newId("msgbatch_");
      const requests: { custom_id: string; params: any }[] = body.requests;
      this.batches.set(id, {
        provider: "anthropic",
        model: requests[0]?.params?.model ?? "",
        items: requests.map((r) => ({ id: r.custom_id, jsonToolName: r.params.tool_choice?.type === "tool" ? r.params.tool_choice.name : undefined })),
        statusReads: 0,
      });
      return sendJson(res, 200, anthropic.batchObject(this.anthropicBatchState(id)));
    }
    const results = /^\/v1\/messages\/batches\/([^/]+)\/results$/.exec(path);
    if (results && method === "GET") {
      const stored = this.batches.get(results[1])!;
      const lines = stored.items.map((item) => {
        const outcome = this.batchOutcomes.get(item.id) ?? { text: `answer for ${item.id}` };
        return "error" in outcome
          ? anthropic.batchErroredLine(item.id, outcome.error)
          : anthropic.batchSucceededLine(item.id, stored.model, outcome, item.jsonToolName);
      });
      res.writeHead(200, { "content-type": "application/binary" });
      return void res.end(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    }
    const batchGet = /^\/v1\/messages\/batches\/([^/]+)$/.exec(path);
    if (batchGet && method === "GET") {
      const stored = this.batches.get(batchGet[1]);
      if (!stored) return sendJson(res, 404, anthropic.errorBody(404, "batch not found"));
      stored.statusReads++;
      return sendJson(res, 200, anthropic.batchObject(this.anthropicBatchState(batchGet[1])));
    }
    sendJson(res, 404, anthropic.errorBody(404, `fake Anthropic has no route ${method} ${path}`));
  }

  private anthropicBatchState(id: string): anthropic.AnthropicBatchState {
    const stored = this.batches.get(id)!;
    const errored = stored.items.filter((i) => "error" in (this.batchOutcomes.get(i.id) ?? {})).length;
    return {
      id,
      ended: stored.statusReads > this.pollsBeforeDone,
      total: stored.items.length,
      succeeded: stored.items.length - errored,
      errored,
      resultsUrl: `${this.anthropicBaseURL}/v1/messages/batches/${id}/results`,
    };
  }

  // Gemini ------------------------------------------------------------------------------------

  private async google(req: IncomingMessage, res: ServerResponse, url: URL, body: any): Promise<void> {
    const path = url.pathname.replace(/^\/google\/v1beta\//, "");
    const method = req.method;
    const modelCall = /^models\/([^:]+):(\w+)$/.exec(path);
    if (modelCall && method === "POST") {
      const [, model, action] = modelCall;
      if (action === "batchGenerateContent") {
        const name = this.newId("batches/");
        const requests: { request: unknown; metadata?: { key?: string } }[] = body.batch.inputConfig.requests.requests;
        this.batches.set(name, { provider: "google", model, items: requests.map((r, i) => ({ id: r.metadata?.key ?? String(i) })), statusReads: 0 });
        return sendJson(res, 200, google.batchOperation(this.geminiBatchState(name)));
      }
      const queued = this.next();
      if (queued.kind === "error") {
        const retryAfter = queued.error.headers?.["retry-after"];
        const errorBody = google.errorBody(queued.error.status, queued.error.message ?? "fake error", retryAfter ? Number(retryAfter) : undefined);
        return sendJson(res, queued.error.status, errorBody);
      }
      if (action === "generateContent") return sendJson(res, 200, google.generateContentResponse(model, queued.reply));
      if (action === "streamGenerateContent") return sendSse(res, google.generateContentChunks(model, queued.reply).map((data) => ({ data })), false);
      if (action === "batchEmbedContents") {
        const requests: unknown[] = body.requests;
        const embeddings = requests.map((_, i) => ({ values: Array.from({ length: this.embeddingDimensions }, (_, d) => (i + d + 1) / 10) }));
        return sendJson(res, 200, { embeddings });
      }
    }
    const batchGet = /^(batches\/[^/]+)$/.exec(path);
    if (batchGet && method === "GET") {
      const stored = this.batches.get(batchGet[1]);
      if (!stored) return sendJson(res, 404, google.errorBody(404, "batch not found"));
      stored.statusReads++;
      return sendJson(res, 200, google.batchOperation(this.geminiBatchState(batchGet[1])));
    }
    sendJson(res, 404, google.errorBody(404, `fake Gemini has no route ${method} ${path}`));
  }

  private geminiBatchState(name: string): google.GeminiBatchState {
    const stored = this.batches.get(name)!;
    const done = stored.statusReads > this.pollsBeforeDone;
    const responses = done
      ? stored.items.map((item) => {
          const outcome = this.batchOutcomes.get(item.id) ?? { text: `answer for ${item.id}` };
          return "error" in outcome
            ? { error: { code: 400, message: outcome.error, status: "INVALID_ARGUMENT" }, metadata: { key: item.id } }
            : { response: google.generateContentResponse(stored.model, outcome), metadata: { key: item.id } };
        })
      : [];
    return { name, model: stored.model, done, responses, total: stored.items.length };
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Server-sent events; OpenAI chat streams end with `data: [DONE]`. */
function sendSse(res: ServerResponse, events: { event?: string; data: unknown }[], doneMarker: boolean): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  for (const e of events) res.write(`${e.event ? `event: ${e.event}\n` : ""}data: ${JSON.stringify(e.data)}\n\n`);
  if (doneMarker) res.write("data: [DONE]\n\n");
  res.end();
}
