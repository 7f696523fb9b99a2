/**
 * Client settings for a local emulator: its endpoint and any non-empty credentials. In AWS the
 * endpoint is unset and the function role's credentials apply.
 */
export function localEndpoint(endpoint: string | undefined) {
  return endpoint
    ? {
        endpoint,
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'local',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'local',
        },
      }
    : {};
}

/**
 * Timeouts for every AWS SDK client (DynamoDB, SQS, the Management API). The SDK sets only a
 * socket idle timeout of 5 to 15 minutes: a connection that hangs would hold a request until
 * Lambda's timeout, and the local server's requests with it. DynamoDB, SQS and the Management
 * API answer in milliseconds; an emulator on a loaded machine in far less than this. The SDK
 * retries a timed-out attempt as it retries a throttle, so a client's attempts times the request
 * timeout must stay under the shortest timeout of a function that uses it (the websocket
 * function's 15 s; test/unit/aws-timeouts.test.ts checks it against serverless.yml).
 */
export const AWS_CONNECTION_TIMEOUT_MS = 1_000;
export const AWS_REQUEST_TIMEOUT_MS = 3_000;
/** Attempts per request: DynamoDB's (lib/store/dynamo.ts) and the Management API's (lib/live/sender.ts). */
export const DYNAMODB_MAX_ATTEMPTS = 3;
export const MANAGEMENT_API_MAX_ATTEMPTS = 2;
export const awsClientTimeouts = {
  // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes.
  requestHandler: { connectionTimeout: AWS_CONNECTION_TIMEOUT_MS, requestTimeout: AWS_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
};
