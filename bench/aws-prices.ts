/**
 * AWS list prices, us-east-1, on-demand, without free tiers: the one place the benchmark reads
 * prices from. Update the figures and `checkedOn` together.
 *
 * Sources (public pricing pages):
 * - DynamoDB on-demand: https://aws.amazon.com/dynamodb/pricing/on-demand/
 *   (write request unit $0.625/M, read request unit $0.125/M since the November 2024 reduction)
 * - SQS: https://aws.amazon.com/sqs/pricing/ (FIFO $0.50/M requests; each 64 KB chunk is a request)
 * - S3 Standard: https://aws.amazon.com/s3/pricing/ (PUT/COPY/POST/LIST $0.005/1000, GET $0.0004/1000)
 * - EventBridge: https://aws.amazon.com/eventbridge/pricing/ (custom events $1.00/M, 64 KB chunks;
 *   Scheduler invocations $1.00/M)
 * - Lambda: https://aws.amazon.com/lambda/pricing/ (requests $0.20/M; x86 duration $0.0000166667/GB-s)
 * - Step Functions Standard: https://aws.amazon.com/step-functions/pricing/ ($25/M state transitions)
 */
export const AWS_PRICES = {
  region: "us-east-1",
  checkedOn: "2025-06-01",
  dynamodb: { perMillionWriteRequestUnits: 0.625, perMillionReadRequestUnits: 0.125 },
  sqs: { perMillionFifoRequests: 0.5, perMillionStandardRequests: 0.4 },
  s3: { perMillionPutListRequests: 5.0, perMillionGetRequests: 0.4 },
  eventBridge: { perMillionCustomEvents: 1.0, perMillionSchedulerInvocations: 1.0 },
  lambda: { perMillionRequests: 0.2, perGbSecond: 0.0000166667 },
  stepFunctions: { perMillionStandardTransitions: 25.0 },
} as const;
