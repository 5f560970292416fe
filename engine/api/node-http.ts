/** Serves the router on node:http (the local stack). Same router, same responses as on Lambda. */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { ApiRequest } from "./http.js";
import type { ApiRouter } from "./router.js";
import { errorResponse } from "./errors.js";

/**
 * A `node:http` request listener for the router. Bodies larger than `maxBodyBytes` are cut off
 * and answered with 413 without reading the rest.
 *
 * @example
 * ```ts
 * http.createServer(createNodeHttpListener(router)).listen(4000);
 * ```
 */
export function createNodeHttpListener(router: ApiRouter, options: { maxBodyBytes?: number } = {}): RequestListener {
  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      void (async () => {
        const response = tooLarge
          ? errorResponse(413, "PayloadTooLarge", `Request body is larger than ${maxBodyBytes} bytes`)
          : await router.handle(toApiRequest(req, chunks));
        res.writeHead(response.statusCode, response.headers).end(response.body);
      })();
    });
  };
}

function toApiRequest(req: IncomingMessage, chunks: Buffer[]): ApiRequest {
  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(",") : value;
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  return {
    method: (req.method ?? "GET").toUpperCase(),
    path: url.pathname,
    query,
    headers,
    body: chunks.length ? Buffer.concat(chunks).toString("utf8") : null,
  };
}
