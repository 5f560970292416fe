/** The framework-agnostic request and response the router speaks; adapters map real servers onto them. */

export interface ApiRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Path without the stage prefix or query string, e.g. `/runs/abc/events`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Raw body text (already base64-decoded), or null. */
  readonly body: string | null;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    statusCode,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
    body: JSON.stringify(body),
  };
}
