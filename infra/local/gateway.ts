import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { matchPath } from '../../lib/routes.js';
import type { Runtime } from '../../lib/runtime.js';
import { httpRoutes, type HttpRouteDefinition } from './serverless-definition.js';
import { startWebSocketGateway, type WebSocketGateway } from './websocket-gateway.js';
import { listenOn } from './listen.js';

/**
 * A local stand-in for API Gateway's HTTP API: it serves the routes of serverless.yml by turning
 * each request into a payload-v2 event and calling the same handler that deploys to Lambda. The
 * handler is built with `createHandler(runtime)`, so tests can run several configurations side by side.
 * The WebSocket API and its Management API share the port (websocket-gateway.ts), so clients find
 * `/api/v4/websocket` on the API's own origin, as Client4.getWebSocketUrl() expects.
 */
type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway refuses payloads above 10 MB before any function runs. */
const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

interface LoadedRoute extends HttpRouteDefinition {
  handler: Handler;
}

async function loadRoutes(runtime: Runtime): Promise<LoadedRoute[]> {
  const loaded: LoadedRoute[] = [];
  for (const route of httpRoutes()) {
    const module = (await import(route.handlerModule)) as { createHandler: (runtime: Runtime) => Handler };
    loaded.push({ ...route, handler: module.createHandler(runtime) });
  }
  return loaded;
}

/**
 * Orders two matching templates as API Gateway does: segment by segment from the left, the first
 * place where one has a literal and the other a parameter decides, for the literal
 * (`/users/tokens/{token_id}` before `/users/{user_id}/teams`, `/users/tokens` before `/users/{user_id}`).
 */
export function compareRouteSpecificity(templateA: string, templateB: string): number {
  const a = templateA.split('/');
  const b = templateB.split('/');
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const aIsParameter = a[index]!.startsWith('{');
    const bIsParameter = b[index]!.startsWith('{');
    if (aIsParameter !== bIsParameter) return aIsParameter ? 1 : -1;
  }
  return 0;
}

/** API Gateway picks the most specific route: literal segments beat parameters; `$default` comes last. */
function selectRoute(routes: LoadedRoute[], method: string, path: string) {
  const matches = routes
    .filter((route) => route.method === method)
    .map((route) => ({ route, parameters: matchPath(route.path, path) }))
    .filter((match) => match.parameters !== undefined)
    .sort((a, b) => compareRouteSpecificity(a.route.path, b.route.path));
  if (matches[0]) return { route: matches[0].route, parameters: matches[0].parameters!, routeKey: `${method} ${matches[0].route.path}` };
  const fallback = routes.find((route) => route.method === '*');
  return fallback ? { route: fallback, parameters: {}, routeKey: '$default' } : undefined;
}

async function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > API_GATEWAY_MAX_BODY_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toEvent(request: IncomingMessage, body: Buffer, routeKey: string, pathParameters: Record<string, string>): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: body.toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
}

export interface Gateway {
  url: string;
  server: Server;
  websocket: WebSocketGateway | undefined;
  close(): Promise<void>;
}

export async function startGateway(options: { runtime: Runtime; port?: number; host?: string }): Promise<Gateway> {
  const routes = await loadRoutes(options.runtime);
  const websocket = await startWebSocketGateway(options.runtime);
  const server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const selected = selectRoute(routes, request.method ?? 'GET', url.pathname);
      const body = await readBody(request);
      if (body !== 'too-large' && websocket?.handleManagementRequest(request, response, body)) return;
      if (body === 'too-large' || !selected) {
        response.writeHead(body === 'too-large' ? 413 : 404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: body === 'too-large' ? 'Request Entity Too Large' : 'Not Found' }));
        return;
      }
      const result = await selected.route.handler(toEvent(request, body, selected.routeKey, selected.parameters));
      const payload = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
      response.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string>), 'content-length': payload.length });
      response.end(payload);
    } catch (error) {
      // API Gateway's answer when the function itself fails.
      console.error(error);
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'Internal Server Error' }));
    }
  });
  server.on('upgrade', (request, socket, head) => {
    if (websocket) websocket.handleUpgrade(request, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
  });
  await listenOn(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    server,
    websocket,
    close: async () => {
      await websocket?.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
