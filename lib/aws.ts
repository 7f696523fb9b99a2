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
 * Timeouts for every AWS SDK client (DynamoDB, SQS, the Management API), which has none of its
 * own: a connection that hangs would otherwise hold a request until Lambda's timeout, and the
 * local server's requests with it. Generous, since DynamoDB and SQS answer in milliseconds and
 * an emulator on a loaded machine in far less than this; the SDK retries a timed-out attempt as
 * it retries a throttle.
 */
export const AWS_CONNECTION_TIMEOUT_MS = 3_000;
export const AWS_REQUEST_TIMEOUT_MS = 10_000;
export const awsClientTimeouts = {
  // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes.
  requestHandler: { connectionTimeout: AWS_CONNECTION_TIMEOUT_MS, requestTimeout: AWS_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
};
