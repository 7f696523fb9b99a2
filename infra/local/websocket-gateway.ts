/**
 * A local stand-in for API Gateway's WebSocket API and its Management API, on the HTTP API's own
 * port: `GET /api/v4/websocket` upgrades and runs the same handler as in AWS for `$connect` (a
 * non-200 answer refuses the upgrade with that status and body), `$default` (each text frame) and
 * `$disconnect`; `POST`, `GET` and `DELETE /@connections/{id}` are the Management API, so
 * `@aws-sdk/client-apigatewaymanagementapi` works unchanged with this origin as its endpoint. As in
 * AWS, a connection can be written to only once `$connect` has answered. Loopback only: the
 * Management API here takes any credentials.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Runtime } from '../../lib/runtime.js';
import { websocketFunction } from './serverless-definition.js';

export const WEBSOCKET_PATH = '/api/v4/websocket';
/** API Gateway's frame limit. */
const MAX_FRAME_BYTES = 128 * 1024;

interface WebSocketEvent {
  requestContext: Record<string, unknown> & { routeKey: string; connectionId: string };
  headers?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}
type Handler = (event: WebSocketEvent) => Promise<{ statusCode: number; body?: string; headers?: Record<string, string> }>;

interface LocalConnection {
  socket: WebSocket;
  connectedAtMs: number;
  lastActiveAtMs: number;
  sourceIp: string;
  userAgent: string;
}

export interface WebSocketGateway {
  /** Handles `/@connections/...`; false when the request is not for the Management API. */
  handleManagementRequest(request: IncomingMessage, response: ServerResponse, body: Buffer): boolean;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open connections, for tests. */
  connectionCount(): number;
  close(): Promise<void>;
}

/** API Gateway's connection ids: 16 characters, letters, digits, `-` and `_`, and a final `=`. */
const newConnectionId = () => `${randomBytes(12).toString('base64url').slice(0, 15)}=`;

export async function startWebSocketGateway(runtime: Runtime, onError: (error: unknown) => void = console.error): Promise<WebSocketGateway | undefined> {
  const definition = websocketFunction();
  if (!definition) return undefined;
  const module = (await import(definition.handlerModule)) as { createHandler: (runtime: Runtime) => Handler };
  const handler = module.createHandler(runtime);
  const connections = new Map<string, LocalConnection>();
  // Shutting down the stack is not a client leaving: no $disconnect then.
  let closing = false;
  const server = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  const context = (routeKey: string, eventType: string, connectionId: string, sourceIp: string) => ({
    routeKey,
    eventType,
    connectionId,
    requestId: randomBytes(8).toString('hex'),
    apiId: 'local',
    stage: 'local',
    domainName: 'localhost',
    requestTimeEpoch: Date.now(),
    identity: { sourceIp },
  });

  const invoke = (event: WebSocketEvent): ReturnType<Handler> => handler(event).catch((error: unknown) => (onError(error), { statusCode: 500 }));

  return {
    handleUpgrade(request, socket, head) {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== WEBSOCKET_PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      const connectionId = newConnectionId();
      const sourceIp = request.socket.remoteAddress ?? '127.0.0.1';
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
      void invoke({
        requestContext: context('$connect', 'CONNECT', connectionId, sourceIp),
        headers,
        ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
        isBase64Encoded: false,
      }).then((result) => {
        if (result.statusCode !== 200) {
          // API Gateway answers a refused $connect with the function's status and body.
          const body = result.body ?? '';
          socket.end(`HTTP/1.1 ${result.statusCode} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
          return;
        }
        server.handleUpgrade(request, socket, head, (ws) => {
          const connection: LocalConnection = { socket: ws, connectedAtMs: Date.now(), lastActiveAtMs: Date.now(), sourceIp, userAgent: headers['user-agent'] ?? '' };
          connections.set(connectionId, connection);
          ws.on('message', (data, isBinary) => {
            connection.lastActiveAtMs = Date.now();
            const payload = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
            void invoke({
              requestContext: context('$default', 'MESSAGE', connectionId, sourceIp),
              body: isBinary ? payload.toString('base64') : payload.toString('utf8'),
              isBase64Encoded: isBinary,
            });
          });
          ws.on('close', () => {
            connections.delete(connectionId);
            if (!closing) void invoke({ requestContext: context('$disconnect', 'DISCONNECT', connectionId, sourceIp) });
          });
          ws.on('error', () => ws.terminate());
        });
      });
    },

    handleManagementRequest(request, response, body) {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const match = /^\/@connections\/([^/]+)$/.exec(url.pathname);
      if (!match) return false;
      const connectionId = decodeURIComponent(match[1]!);
      const connection = connections.get(connectionId);
      const answer = (status: number, payload?: unknown, errorType?: string) => {
        const text = payload === undefined ? '' : JSON.stringify(payload);
        response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        response.end(text);
      };
      if (!connection || connection.socket.readyState !== connection.socket.OPEN) {
        answer(410, { message: null }, 'GoneException');
        return true;
      }
      if (request.method === 'POST') {
        if (body.length > MAX_FRAME_BYTES) answer(413, { message: 'Payload too large' }, 'PayloadTooLargeException');
        else {
          connection.socket.send(body.toString('utf8'));
          answer(200);
        }
      } else if (request.method === 'GET') {
        answer(200, {
          ConnectedAt: new Date(connection.connectedAtMs).toISOString(),
          LastActiveAt: new Date(connection.lastActiveAtMs).toISOString(),
          Identity: { SourceIp: connection.sourceIp, UserAgent: connection.userAgent },
        });
      } else if (request.method === 'DELETE') {
        connection.socket.close(1000);
        answer(204);
      } else answer(403, { message: 'Forbidden' }, 'ForbiddenException');
      return true;
    },

    connectionCount: () => connections.size,

    close: async () => {
      closing = true;
      for (const connection of connections.values()) connection.socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
