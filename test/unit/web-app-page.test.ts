import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { createHandler, separateWebsocketUrl } from '../../functions/web-app.js';

/**
 * Where the page opens its websocket: its own origin locally (WEBSOCKET_URL unset), else the
 * stage's WEBSOCKET_URL (the front door's /api/v4/websocket, or the WebSocket API's own URL).
 */
describe('the web app page and its websocket URL', () => {
  it('names no separate URL when the websocket answers on the host that served the page, or none is configured', () => {
    expect(separateWebsocketUrl('wss://chat.example.com/api/v4/websocket', 'chat.example.com')).toBeUndefined();
    expect(separateWebsocketUrl('wss://chat.example.com/api/v4/websocket', 'CHAT.example.com')).toBeUndefined();
    expect(separateWebsocketUrl(undefined, 'api.example.com')).toBeUndefined();
    expect(separateWebsocketUrl('not a url', 'api.example.com')).toBeUndefined();
    expect(separateWebsocketUrl('https://abc123.execute-api.eu-west-1.amazonaws.com/prod', 'api.example.com')).toBeUndefined();
  });

  it('names the configured URL when the page came through another host', () => {
    expect(separateWebsocketUrl('wss://abc123.execute-api.eu-west-1.amazonaws.com/prod/', 'chat.example.com')).toBe('wss://abc123.execute-api.eu-west-1.amazonaws.com/prod');
    // Behind the front door API Gateway sees its own execute-api Host, not the page's.
    expect(separateWebsocketUrl('wss://d111111abcdef8.cloudfront.net/api/v4/websocket', 'a1b2c3.execute-api.eu-west-1.amazonaws.com')).toBe('wss://d111111abcdef8.cloudfront.net/api/v4/websocket');
  });

  it('puts that URL in the page and lets the CSP connect to its origin only', async () => {
    const dist = mkdtempSync(path.join(tmpdir(), 'web-dist-'));
    mkdirSync(path.join(dist, 'static'));
    writeFileSync(path.join(dist, 'index.html'), '<html><head><title>x</title></head><body></body></html>');
    const config = loadConfig({ ...process.env, TABLE_ENTITIES: 'e', TABLE_POSTS: 'p', TABLE_DELIVERIES: 'd', WEBSOCKET_URL: 'wss://abc123.execute-api.eu-west-1.amazonaws.com/prod' });
    const handler = createHandler({ config, logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }) }, dist);
    const event = (host: string) =>
      ({ routeKey: 'GET /', rawPath: '/', rawQueryString: '', headers: { host }, requestContext: { http: { method: 'GET', path: '/' } }, isBase64Encoded: false }) as unknown as APIGatewayProxyEventV2;
    const answer = (await handler(event('chat.example.com'))) as { statusCode: number; body: string; headers: Record<string, string> };
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toContain('<meta name="hookline-websocket-url" content="wss://abc123.execute-api.eu-west-1.amazonaws.com/prod" />');
    expect(answer.headers['content-security-policy']).toContain("connect-src 'self' wss://abc123.execute-api.eu-west-1.amazonaws.com;");
    const local = (await handler(event('abc123.execute-api.eu-west-1.amazonaws.com'))) as { body: string; headers: Record<string, string> };
    expect(local.body).not.toContain('hookline-websocket-url');
    expect(local.headers['content-security-policy']).toContain("connect-src 'self';");
  });
});
