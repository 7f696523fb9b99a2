import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, inject } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { newId } from '../../lib/ids.js';
import { createRuntime, type Runtime } from '../../lib/runtime.js';
import type { BusinessMetrics } from '../../lib/metrics.js';
import { applySeed, type SeedSummaryWithSecrets } from '../../lib/seed/seed.js';
import type { z } from 'zod';
import { seedFileSchema } from '../../lib/seed/schema.js';
import { startGateway, type Gateway } from '../../infra/local/gateway.js';
import { startQueueSource, startStreamSource } from '../../infra/local/event-sources.js';
import { freePort, provisionLocalResources } from '../../infra/local/stack.js';
import { createOutgoingRuntime, type OutgoingRuntime } from '../../lib/webhooks/outgoing-runtime.js';

export function stackEnvironment(): Record<string, string> {
  return inject('stackEnvironment');
}

/** A runtime against the test stack, with configuration overrides as environment variables. */
export function testRuntime(overrides: Record<string, string> = {}, logger?: Logger, metrics?: BusinessMetrics): Runtime {
  const environment = stackEnvironment();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  const config = loadConfig({ ...environment, ...overrides });
  return createRuntime(config, logger ?? new Logger({ serviceName: 'hookline-test', logLevel: 'SILENT' }), undefined, metrics);
}

export interface Api {
  url: string;
  runtime: Runtime;
  gateway: Gateway;
  close(): Promise<void>;
  request(method: string, path: string, options?: { body?: string | Buffer; headers?: Record<string, string> }): Promise<ApiResponse>;
  postJson(path: string, body: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
}

/** The HTTP API on a loopback port, served by the real handlers, with the given configuration. */
export async function startApi(overrides: Record<string, string> = {}, logger?: Logger, metrics?: BusinessMetrics): Promise<Api> {
  // The API's own origin is its SITE_URL, as on a deployed stage, unless the test says otherwise.
  const port = await freePort();
  // The Management API of live events answers on the same port, as the local gateway serves it.
  const runtime = testRuntime({ SITE_URL: `http://127.0.0.1:${port}`, WEBSOCKET_MANAGEMENT_ENDPOINT: `http://127.0.0.1:${port}`, ...overrides }, logger, metrics);
  const gateway = await startGateway({ runtime, port });
  const request: Api['request'] = async (method, path, options = {}) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: options.headers ?? {},
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  };
  return {
    url: gateway.url,
    runtime,
    gateway,
    close: gateway.close,
    request,
    postJson: (path, body, headers = {}) =>
      request('POST', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }),
  };
}

/**
 * The setup most API test files share: before the file's tests, an API on a loopback port
 * (`startApi(overrides)`) with `worlds` worlds seeded on it, handed to `use`; after them, the API
 * closed.
 */
export function withApiAndWorlds(worlds: number, use: (api: Api, worlds: World[]) => void, overrides: Record<string, string> = {}): void {
  let api: Api | undefined;
  beforeAll(async () => {
    api = await startApi(overrides);
    const seeded: World[] = [];
    for (let index = 0; index < worlds; index++) seeded.push(await seedWorld(api.runtime));
    use(api, seeded);
  });
  afterAll(() => api?.close());
}

/** The header that authenticates a request with a user's token. */
export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** A well-formed id that names nothing stored. */
export const BAD_ID = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';

export function uniqueName(prefix = 't'): string {
  return `${prefix}${newId().slice(0, 10)}`;
}

export interface World {
  team: { name: string; id: string };
  summary: SeedSummaryWithSecrets;
  channel(name: string): { id: string; name: string };
  user(username: string): { id: string; token: string; username: string };
  hook(displayName: string): { id: string; url: string };
}

/**
 * Seeds a fresh team through the real seed code: `town-square` (public) and `private` (private)
 * channels, users `creator` (member of both), `other` (town-square only) and `outsider` (team only),
 * and whatever extra entries the test passes. Names are unique so tests never collide.
 */
export async function seedWorld(runtime: Runtime, extra: (names: WorldNames) => Partial<z.input<typeof seedFileSchema>> = () => ({})): Promise<World> {
  const names: WorldNames = {
    team: uniqueName('team'),
    creator: uniqueName('creator'),
    other: uniqueName('other'),
    outsider: uniqueName('outsider'),
  };
  const base = {
    teams: [{ name: names.team }],
    channels: [
      { team: names.team, name: 'town-square', type: 'O' },
      { team: names.team, name: 'off-topic', type: 'O' },
      { team: names.team, name: 'private', type: 'P' },
    ],
    users: [
      { username: names.creator, teams: [names.team], channels: [`${names.team}/town-square`, `${names.team}/private`, `${names.team}/off-topic`] },
      { username: names.other, teams: [names.team], channels: [`${names.team}/town-square`] },
      { username: names.outsider, teams: [names.team], channels: [] },
    ],
    incoming_webhooks: [{ team: names.team, channel: 'town-square', creator: names.creator, display_name: 'main' }],
  };
  const more = extra(names);
  const seed = seedFileSchema.parse({
    ...base,
    ...more,
    channels: [...base.channels, ...(more.channels ?? [])],
    users: [...base.users, ...(more.users ?? [])],
    incoming_webhooks: [...base.incoming_webhooks, ...(more.incoming_webhooks ?? [])],
  });
  // Tests read every secret from the world's summary, including the action signing secret that an earlier test created.
  const summary = (await applySeed('test-world.yaml', seed, { store: runtime.entities, siteUrl: '', showSecrets: true })) as SeedSummaryWithSecrets;
  const find = <T>(list: T[], predicate: (item: T) => boolean, what: string): T => {
    const found = list.find(predicate);
    if (!found) throw new Error(`test world has no ${what}`);
    return found;
  };
  return {
    team: find(summary.teams, (team) => team.name === names.team, 'team'),
    summary,
    channel: (name) => find(summary.channels, (channel) => channel.name === name && channel.team === names.team, `channel ${name}`),
    user: (username) => {
      const actual = (names as unknown as Record<string, string>)[username] ?? username;
      const user = find(summary.users, (candidate) => candidate.username === actual, `user ${username}`);
      return { id: user.id, username: user.username, token: user.token ?? '' };
    },
    hook: (displayName) => {
      const hook = find(summary.incoming_webhooks, (candidate) => candidate.display_name === displayName, `hook ${displayName}`);
      return { id: hook.id, url: `/hooks/${hook.id}` };
    },
  };
}

export interface WorldNames {
  team: string;
  creator: string;
  other: string;
  outsider: string;
}

export interface OutgoingStack {
  api: Api;
  runtime: OutgoingRuntime;
  environment: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The whole outgoing pipeline on its own tables and queues (a fresh stage, so parallel test files
 * never take each other's messages): the HTTP API, the posts stream feeding the dispatcher, and the
 * queue feeding the worker, all real, with short retry delays.
 */
export async function startOutgoingStack(
  overrides: Record<string, string> = {},
  options: {
    visibilityTimeoutSeconds?: number;
    /** The stream mapping's maximum record age (serverless.yml's default is an hour). */
    maximumRecordAgeSeconds?: number;
    wrapWorker?: (handler: (event: SQSEvent) => Promise<SQSBatchResponse>) => (event: SQSEvent) => Promise<SQSBatchResponse>;
  } = {},
): Promise<OutgoingStack> {
  const base = stackEnvironment();
  const provisioned = await provisionLocalResources({
    stage: uniqueName('out'),
    dynamoEndpoint: base.DYNAMODB_ENDPOINT!,
    sqsEndpoint: base.SQS_ENDPOINT!,
    queueOverrides: options.visibilityTimeoutSeconds ? { OutgoingQueue: { VisibilityTimeout: String(options.visibilityTimeoutSeconds) } } : {},
  });
  const environment: Record<string, string> = {
    ...provisioned.environment,
    DISPATCH_FAILURE_QUEUE_URL: provisioned.queueUrls.DispatchFailureQueue!,
    ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8',
    OUTGOING_RETRY_DELAYS_SECONDS: '1',
    OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '2',
    ...overrides,
  };
  const api = await startApi(environment);
  const runtime = createOutgoingRuntime(api.runtime);
  const { createHandler: dispatcher } = await import('../../functions/outgoing-dispatcher.js');
  const { createHandler: worker } = await import('../../functions/outgoing-worker.js');
  const stream = await startStreamSource({
    dynamoEndpoint: environment.DYNAMODB_ENDPOINT!,
    tableName: environment.TABLE_POSTS!,
    handler: dispatcher(runtime),
    intervalMs: 50,
    retryDelayMs: 100,
    onError: (error) => console.error('stream source:', error),
    maximumRecordAgeSeconds: options.maximumRecordAgeSeconds ?? 3_600,
    onFailure: { sqsEndpoint: environment.SQS_ENDPOINT!, queueUrl: provisioned.queueUrls.DispatchFailureQueue! },
  });
  const queue = startQueueSource({ sqsEndpoint: environment.SQS_ENDPOINT!, queueUrl: environment.QUEUE_URL!, handler: options.wrapWorker ? options.wrapWorker(worker(runtime)) : worker(runtime), intervalMs: 50, onError: (error) => console.error('queue source:', error) });
  return {
    api,
    runtime,
    environment,
    close: async () => {
      await queue.stop();
      await stream.stop();
      await api.close();
    },
  };
}

/**
 * The posts stream feeding the live-events function of `api` from now on (the stream of the shared
 * test tables holds every other test's posts), as Lambda's mapping with startingPosition LATEST does.
 */
export async function startLiveEvents(api: Api): Promise<{ stop(): Promise<void> }> {
  const { createHandler } = await import('../../functions/live-events.js');
  return startStreamSource({
    dynamoEndpoint: api.runtime.config.dynamodbEndpoint!,
    tableName: api.runtime.config.tables.posts,
    handler: createHandler(api.runtime),
    intervalMs: 20,
    retryDelayMs: 100,
    startingPosition: 'LATEST',
    onError: (error) => console.error('live stream source:', error),
  });
}

/**
 * The HTTP API on tables of a stage of its own, for tests that read a whole table (a Scan) or its
 * stream, which other files' writes on the shared test tables would disturb.
 */
export async function startApiOnOwnStage(prefix: string, overrides: Record<string, string> = {}): Promise<{ api: Api; stage: string }> {
  const base = stackEnvironment();
  const stage = uniqueName(prefix);
  const provisioned = await provisionLocalResources({ stage, dynamoEndpoint: base.DYNAMODB_ENDPOINT!, sqsEndpoint: base.SQS_ENDPOINT! });
  return { api: await startApi({ ...provisioned.environment, ...overrides }), stage };
}

/**
 * The HTTP API with live events: the websocket on the API's port, and the posts stream
 * (`startLiveEvents`), on tables of a stage of its own. On the shared test tables, two files'
 * live stacks would each push the other's channel events through their own gateway, which does
 * not know the other's connections: it answers 410, and the connections are pruned.
 */
export async function startLiveStack(overrides: Record<string, string> = {}): Promise<{ api: Api; stage: string; close(): Promise<void> }> {
  const { api, stage } = await startApiOnOwnStage('live', overrides);
  const stream = await startLiveEvents(api);
  return {
    api,
    stage,
    close: async () => {
      await stream.stop();
      await api.close();
    },
  };
}
