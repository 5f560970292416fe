/**
 * `stageflow/client`: a typed, SigV4-signing HTTP client for the API the `WorkflowEngine`
 * construct deploys. It loads no worker, kernel or adapter code.
 */
export { createClient, type StageflowClient } from "./client.js";
export { StageflowApiError, WaitForRunTimeoutError } from "./errors.js";
export { signRequest, type ClientCredentials, type ClientCredentialsProvider, type SignRequestOptions, type UnsignedRequest } from "./signing.js";
export type {
  ClientOptions,
  ListRunsOptions,
  StartRunOptions,
  UntypedCatalog,
  WaitForRunOptions,
  WorkflowCatalog,
  WorkflowIdOf,
  WorkflowInputOf,
  WorkflowOutputOf,
  WorkflowTypeSource,
} from "./types.js";
export type * from "../api/types.js";
