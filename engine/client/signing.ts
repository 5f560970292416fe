/**
 * SigV4 signing of the client's HTTP requests for API Gateway's IAM authorization
 * (service `execute-api`), with the same signer the AWS SDK uses.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/** AWS credentials, as the SDK's credential providers return them. */
export interface ClientCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** A function that returns (possibly refreshed) credentials, like `fromNodeProviderChain()`. */
export type ClientCredentialsProvider = () => Promise<ClientCredentials>;

/** A request about to be sent, before signing. */
export interface UnsignedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface SignRequestOptions {
  readonly region: string;
  readonly credentials: ClientCredentials | ClientCredentialsProvider;
  /** @default "execute-api" */
  readonly service?: string;
  /** Signing time; tests pin it. @default now */
  readonly signingDate?: Date;
}

/**
 * Returns the request's headers with `authorization`, `x-amz-date`, `x-amz-content-sha256` and,
 * for temporary credentials, `x-amz-security-token` added.
 *
 * @example
 * ```ts
 * const headers = await signRequest(
 *   { method: "GET", url: new URL("https://abc.execute-api.eu-west-1.amazonaws.com/runs"), headers: {} },
 *   { region: "eu-west-1", credentials: fromNodeProviderChain() },
 * );
 * ```
 */
export async function signRequest(request: UnsignedRequest, options: SignRequestOptions): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: options.service ?? "execute-api",
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of request.url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      port: request.url.port ? Number(request.url.port) : undefined,
      // The path as it goes on the wire (percent-encoded once); the signer encodes it again,
      // as SigV4 requires for every service but S3.
      path: request.url.pathname,
      query,
      // `host` must be signed: API Gateway rejects signatures that do not cover it.
      headers: { ...request.headers, host: request.url.host },
      body: request.body,
    },
    { signingDate: options.signingDate },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    // fetch sets host itself from the URL; sending it explicitly is forbidden in undici.
    if (name.toLowerCase() !== "host") headers[name] = String(value);
  }
  return headers;
}
