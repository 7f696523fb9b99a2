import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';
import { fromEnvironment } from '../../lib/edge-runtime.js';
import { validateAction } from '../../lib/posts/attachments.js';

const wiring = { TABLE_ENTITIES: 'e', TABLE_POSTS: 'p', TABLE_DELIVERIES: 'd' };

describe('loadConfig', () => {
  it('gives Mattermost\'s defaults and converts units once', () => {
    const config = loadConfig(wiring);
    expect(config).toMatchObject({
      enableIncomingWebhooks: true,
      enablePostUsernameOverride: false,
      outgoingRequestsTimeoutMs: 10_000,
      maxPayloadSizeBytes: 300_000,
      entityCacheTtlMs: 10_000,
      outgoingRetryDelaysSeconds: [5, 30, 120, 600, 1800, 3600, 7200],
      outgoingMaxAttempts: 8,
      dispatchParkAfterMs: 300_000,
      incomingWebhookRateLimit: { perSecond: 10, burst: 100, windowMs: 60_000 },
      signingSecretRotationWindowMs: 86_400_000,
    });
    expect(loadConfig({ ...wiring, SIGNING_SECRET_ROTATION_WINDOW_SECONDS: '0' }).signingSecretRotationWindowMs).toBe(0);
    expect(loadConfig({ ...wiring, INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND: '0' }).incomingWebhookRateLimit).toBeUndefined();
    expect(loadConfig({ ...wiring, ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8, localhost  10.0.0.1' }).allowedUntrustedInternalConnections).toEqual(['127.0.0.0/8', 'localhost', '10.0.0.1']);
    expect(loadConfig({ ...wiring, SITE_URL: 'https://chat.example.com//' }).siteUrl).toBe('https://chat.example.com');
  });

  it('refuses bad values with every problem named, so a cold start fails instead of a request', () => {
    expect(() => loadConfig({ ...wiring, ENABLE_COMMANDS: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...wiring, OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '0' })).toThrow(/OUTGOING_INTEGRATION_REQUESTS_TIMEOUT/);
    expect(() => loadConfig({ ...wiring, OUTGOING_RETRY_DELAYS_SECONDS: '5,x' })).toThrow(/OUTGOING_RETRY_DELAYS_SECONDS/);
    expect(() => loadConfig({ ...wiring, SIGNING_SECRET_ROTATION_WINDOW_SECONDS: '-1' })).toThrow(/SIGNING_SECRET_ROTATION_WINDOW_SECONDS/);
    expect(() => loadConfig({ ...wiring, ENABLE_COMMANDS: 'maybe', MAXIMUM_PAYLOAD_SIZE_BYTES: '-1' })).toThrow(/ENABLE_COMMANDS.*MAXIMUM_PAYLOAD_SIZE_BYTES/);
  });
});

describe('table names', () => {
  it('have no defaults: a missing or blank name fails with every variable named', () => {
    expect(() => loadConfig({})).toThrow(/TABLE_ENTITIES.*TABLE_POSTS.*TABLE_DELIVERIES/);
    expect(() => loadConfig({ ...wiring, TABLE_POSTS: ' ' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...wiring, TABLE_POSTS: ' ' })).toThrow(/TABLE_POSTS is not set/);
    expect(loadConfig(wiring).tables).toEqual({ entities: 'e', posts: 'p', deliveries: 'd' });
  });

  it('fail at import in Lambda, and at first use when a module is only imported (tests, local stack)', () => {
    const build = () => ({ config: loadConfig({}) });
    expect(() => fromEnvironment(build, { AWS_LAMBDA_FUNCTION_NAME: 'hookline-prod-ping' })).toThrow(ConfigError);
    const deferred = fromEnvironment(build, {});
    expect(() => deferred.config).toThrow(/TABLE_ENTITIES is not set/);

    let builds = 0;
    const runtime = fromEnvironment(() => ({ config: loadConfig(wiring), count: ++builds }), {});
    expect(builds).toBe(0);
    expect(runtime.config.tables.posts).toBe('p');
    expect({ ...runtime }.count).toBe(1);
    expect(builds).toBe(1);
  });
});

describe('validateAction (PostAction.IsValid)', () => {
  const url = 'https://integration.example.com/click';
  it('accepts buttons and selects as Mattermost does', () => {
    expect(() => validateAction({ name: 'Go', integration: { url } })).not.toThrow();
    expect(() => validateAction({ name: 'Pick', type: 'select', options: [{ text: 'A', value: 'a' }], integration: { url } })).not.toThrow();
    expect(() => validateAction({ name: 'Who', type: 'select', data_source: 'users', integration: { url } })).not.toThrow();
    expect(() => validateAction({ id: 'approve-1_ok', name: 'Go', style: '#00ff00', integration: { url } })).not.toThrow();
  });

  it('refuses what Mattermost refuses, with its error id', () => {
    for (const action of [
      { integration: { url } },
      { name: 'x', integration: { url: ':test' } },
      { name: 'x', type: 'select', integration: { url } },
      { name: 'x', type: 'select', data_source: 'planets', integration: { url } },
      { name: 'x', type: 'button', options: [{ text: 'A', value: 'a' }], integration: { url } },
      { name: 'x', type: 'radio', integration: { url } },
      { name: 'x', style: 'loud', integration: { url } },
      { id: 'bad id!', name: 'x', integration: { url } },
    ]) {
      expect(() => validateAction(action), JSON.stringify(action)).toThrow(expect.objectContaining({ id: 'model.post_action.is_valid.app_error', statusCode: 400 }));
    }
  });
});
