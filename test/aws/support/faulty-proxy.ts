/** An HTTP proxy in front of an emulator that answers chosen requests with an AWS error instead. */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultyProxy {
  endpoint: string;
  /** Requests answered with the fault so far. */
  faults(): number;
  close(): Promise<void>;
}

export async function startFaultyProxy(
  target: string,
  fault: { status: number; type: string; message: string; times: number },
): Promise<FaultyProxy> {
  let faults = 0;
  const targetUrl = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (faults < fault.times) {
        faults++;
        res.writeHead(fault.status, { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": fault.type });
        res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`, message: fault.message }));
        return;
      }
      const forward = request(
        { hostname: targetUrl.hostname, port: targetUrl.port, path: req.url, method: req.method, headers: req.headers },
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 500, upstream.headers);
          upstream.pipe(res);
        },
      );
      forward.on("error", (error) => res.destroy(error));
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faults: () => faults,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
