/**
 * Configuration, read once from the environment and validated. The stage files (config/*.yml)
 * give these variables; config/default.yml explains each and names the Mattermost setting it
 * mirrors. A deployed function builds its runtime from `loadConfig(process.env)` at module load
 * (`fromEnvironment` in lib/edge-runtime.ts), so a bad value fails the cold start, not a request.
 */
import * as z from './zod.js';

const booleanFromEnv = (fallback: boolean) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value: string | undefined, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const normalized = value.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(normalized)) return true;
      if (['false', '0', 'no', 'off'].includes(normalized)) return false;
      return z.refuse(ctx, `expected true or false, got "${value}"`);
    }),
  );

const integerFromEnv = (fallback: number, min: number, max: number) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value: string | undefined, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        return z.refuse(ctx, `expected an integer from ${min} to ${max}, got "${value}"`);
      }
      return parsed;
    }),
  );

const optionalString = z.pipe(
  z.optional(z.string()),
  z.transform((value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim())),
);

const tableName = (variable: string) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value: string | undefined, ctx) => {
      if (value === undefined || value.trim() === '') return z.refuse(ctx, `${variable} is not set: name the DynamoDB table`);
      return value.trim();
    }),
  );

const envSchema = z.object({
  ENABLE_INCOMING_WEBHOOKS: booleanFromEnv(true),
  ENABLE_OUTGOING_WEBHOOKS: booleanFromEnv(true),
  ENABLE_COMMANDS: booleanFromEnv(true),
  ENABLE_POST_USERNAME_OVERRIDE: booleanFromEnv(false),
  ENABLE_POST_ICON_OVERRIDE: booleanFromEnv(false),
  /**
   * Mattermost's EnableUserAccessTokens. On by default, unlike Mattermost, because every Hookline
   * user signs in with a personal access token: off refuses every token (401) and token creation
   * (501), which closes the API to users.
   */
  ENABLE_USER_ACCESS_TOKENS: booleanFromEnv(true),
  OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: integerFromEnv(10, 1, 900),
  ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: z._default(z.optional(z.string()), ''),
  SITE_URL: optionalString,
  /** Mattermost's MaximumPayloadSizeBytes: request bodies above it answer 413. */
  MAXIMUM_PAYLOAD_SIZE_BYTES: integerFromEnv(300_000, 1_024, 10_000_000),
  /** How long a warm instance trusts its copy of a hook, channel or user before reading it again. */
  ENTITY_CACHE_TTL_SECONDS: integerFromEnv(10, 0, 3_600),
  /**
   * Posts per second each incoming hook may send, with a burst (Mattermost's RateLimitSettings
   * PerSec and MaxBurst, applied per hook); 0 turns the limit off. On by default: a leaked hook URL
   * must not be able to spend the account's Lambda concurrency and DynamoDB capacity.
   */
  INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND: integerFromEnv(10, 0, 100_000),
  INCOMING_WEBHOOK_RATE_LIMIT_BURST: integerFromEnv(100, 1, 1_000_000),
  /**
   * The window over which instances reconcile their counts: across instances a hook gets at most
   * `PER_SECOND * window + BURST` posts per window. Long windows hold the sustained rate close to
   * PER_SECOND (11.7/s at the defaults); each instance's own bucket still bounds its bursts.
   */
  INCOMING_WEBHOOK_RATE_LIMIT_WINDOW_SECONDS: integerFromEnv(60, 1, 3_600),
  /** Opt-in: answer POST /hooks/{id} with the created post ids as JSON instead of `ok`. */
  INCOMING_WEBHOOK_RETURN_POSTS: booleanFromEnv(false),
  /**
   * The table names have no defaults: a deploy that lost them must not quietly read and write
   * another stage's tables (or none). serverless.yml sets them from the tables it creates; the
   * local stack, the tests and the benchmark set them from the tables they provision.
   */
  TABLE_ENTITIES: tableName('TABLE_ENTITIES'),
  TABLE_POSTS: tableName('TABLE_POSTS'),
  TABLE_DELIVERIES: tableName('TABLE_DELIVERIES'),
  /**
   * Live websocket connections (lib/store/connections.ts). Optional: a process without it (the
   * operator CLIs) pushes no live events, like one without WEBSOCKET_MANAGEMENT_ENDPOINT.
   */
  TABLE_CONNECTIONS: optionalString,
  /**
   * Where the API Gateway Management API of the WebSocket API answers (`https://{api}.execute-api.
   * {region}.amazonaws.com/{stage}`, or the local gateway); unset, nothing is pushed to clients.
   */
  WEBSOCKET_MANAGEMENT_ENDPOINT: optionalString,
  /**
   * Where clients open the websocket (`wss://…`): the site's origin + /api/v4/websocket behind the
   * front door, else the WebSocket API's own URL. Unset (locally): the API's own origin.
   */
  WEBSOCKET_URL: optionalString,
  QUEUE_URL: optionalString,
  DEAD_LETTER_QUEUE_URL: optionalString,
  /** Where the dispatcher parks posts it could not dispatch (the posts stream's failure queue). */
  DISPATCH_FAILURE_QUEUE_URL: optionalString,
  /**
   * How long the dispatcher lets the stream retry a failing post before parking it in the failure
   * queue and moving on, so that one bad post holds its shard for minutes, not a day.
   */
  DISPATCH_PARK_AFTER_SECONDS: integerFromEnv(300, 0, 86_400),
  /**
   * Attempts of an outgoing delivery before the worker moves it to the dead-letter queue itself
   * (and logs that last attempt as dead-lettered). The queue's redrive policy allows a few more
   * receives, as a backstop for a worker that dies mid-attempt.
   */
  OUTGOING_MAX_ATTEMPTS: integerFromEnv(8, 1, 100),
  /** Delays before the 2nd, 3rd, ... attempt of an outgoing delivery; the last repeats. */
  OUTGOING_RETRY_DELAYS_SECONDS: z.pipe(
    z.optional(z.string()),
    z.transform((value: string | undefined, ctx) => {
      const delays = (value?.trim() ? value : '5,30,120,600,1800,3600,7200').split(',').map((part) => Number(part.trim()));
      if (delays.some((delay) => !Number.isInteger(delay) || delay < 1 || delay > 43_200)) {
        return z.refuse(ctx, 'expected comma-separated whole seconds from 1 to 43200');
      }
      return delays;
    }),
  ),
  /** How long a slash command's ephemeral answer stays readable by its user (DynamoDB TTL). */
  EPHEMERAL_POST_TTL_MINUTES: integerFromEnv(60, 1, 10_080),
  /**
   * After an outgoing hook's signing secret is rotated, how long the replaced secret still signs
   * deliveries beside the new one, so receivers can install the new secret without losing requests.
   */
  SIGNING_SECRET_ROTATION_WINDOW_SECONDS: integerFromEnv(86_400, 0, 30 * 86_400),
  /** How long delivery attempts stay listed (DynamoDB TTL). */
  DELIVERY_LOG_TTL_DAYS: integerFromEnv(7, 1, 365),
  /** How long audit records of management changes are kept (DynamoDB TTL). */
  AUDIT_LOG_TTL_DAYS: integerFromEnv(90, 1, 3650),
  DYNAMODB_ENDPOINT: optionalString,
  SQS_ENDPOINT: optionalString,
  AWS_REGION: z._default(z.optional(z.string()), 'us-east-1'),
  HOOKLINE_VERSION: z._default(z.optional(z.string()), '0.1.0'),
});

export interface Config {
  enableIncomingWebhooks: boolean;
  enableOutgoingWebhooks: boolean;
  enableCommands: boolean;
  enablePostUsernameOverride: boolean;
  enablePostIconOverride: boolean;
  enableUserAccessTokens: boolean;
  outgoingRequestsTimeoutMs: number;
  allowedUntrustedInternalConnections: string[];
  siteUrl: string | undefined;
  maxPayloadSizeBytes: number;
  entityCacheTtlMs: number;
  incomingWebhookReturnPosts: boolean;
  /** Undefined when off. */
  incomingWebhookRateLimit: { perSecond: number; burst: number; windowMs: number } | undefined;
  tables: { entities: string; posts: string; deliveries: string; connections: string | undefined };
  websocketManagementEndpoint: string | undefined;
  websocketUrl: string | undefined;
  queueUrl: string | undefined;
  deadLetterQueueUrl: string | undefined;
  dispatchFailureQueueUrl: string | undefined;
  dispatchParkAfterMs: number;
  outgoingRetryDelaysSeconds: number[];
  outgoingMaxAttempts: number;
  deliveryLogTtlSeconds: number;
  signingSecretRotationWindowMs: number;
  auditLogTtlSeconds: number;
  ephemeralPostTtlSeconds: number;
  dynamodbEndpoint: string | undefined;
  sqsEndpoint: string | undefined;
  region: string;
  version: string;
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    enableIncomingWebhooks: e.ENABLE_INCOMING_WEBHOOKS,
    enableOutgoingWebhooks: e.ENABLE_OUTGOING_WEBHOOKS,
    enableCommands: e.ENABLE_COMMANDS,
    enablePostUsernameOverride: e.ENABLE_POST_USERNAME_OVERRIDE,
    enablePostIconOverride: e.ENABLE_POST_ICON_OVERRIDE,
    enableUserAccessTokens: e.ENABLE_USER_ACCESS_TOKENS,
    outgoingRequestsTimeoutMs: e.OUTGOING_INTEGRATION_REQUESTS_TIMEOUT * 1000,
    // Mattermost splits this setting on whitespace and commas.
    allowedUntrustedInternalConnections: e.ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS.split(/[\s,]+/).filter(Boolean),
    siteUrl: e.SITE_URL?.replace(/\/+$/, ''),
    maxPayloadSizeBytes: e.MAXIMUM_PAYLOAD_SIZE_BYTES,
    entityCacheTtlMs: e.ENTITY_CACHE_TTL_SECONDS * 1000,
    incomingWebhookReturnPosts: e.INCOMING_WEBHOOK_RETURN_POSTS,
    incomingWebhookRateLimit:
      e.INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND > 0
        ? {
            perSecond: e.INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND,
            burst: e.INCOMING_WEBHOOK_RATE_LIMIT_BURST,
            windowMs: e.INCOMING_WEBHOOK_RATE_LIMIT_WINDOW_SECONDS * 1000,
          }
        : undefined,
    tables: { entities: e.TABLE_ENTITIES, posts: e.TABLE_POSTS, deliveries: e.TABLE_DELIVERIES, connections: e.TABLE_CONNECTIONS },
    websocketManagementEndpoint: e.WEBSOCKET_MANAGEMENT_ENDPOINT?.replace(/\/+$/, ''),
    websocketUrl: e.WEBSOCKET_URL?.replace(/\/+$/, ''),
    queueUrl: e.QUEUE_URL,
    deadLetterQueueUrl: e.DEAD_LETTER_QUEUE_URL,
    dispatchFailureQueueUrl: e.DISPATCH_FAILURE_QUEUE_URL,
    dispatchParkAfterMs: e.DISPATCH_PARK_AFTER_SECONDS * 1000,
    outgoingRetryDelaysSeconds: e.OUTGOING_RETRY_DELAYS_SECONDS,
    outgoingMaxAttempts: e.OUTGOING_MAX_ATTEMPTS,
    deliveryLogTtlSeconds: e.DELIVERY_LOG_TTL_DAYS * 86_400,
    signingSecretRotationWindowMs: e.SIGNING_SECRET_ROTATION_WINDOW_SECONDS * 1000,
    auditLogTtlSeconds: e.AUDIT_LOG_TTL_DAYS * 86_400,
    ephemeralPostTtlSeconds: e.EPHEMERAL_POST_TTL_MINUTES * 60,
    dynamodbEndpoint: e.DYNAMODB_ENDPOINT,
    sqsEndpoint: e.SQS_ENDPOINT,
    region: e.AWS_REGION,
    version: e.HOOKLINE_VERSION,
  };
}
