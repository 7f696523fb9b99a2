import { randomUUID } from 'node:crypto';
import { errorResponse } from '../lib/http/handler.js';
import { liveFor } from '../lib/live/live.js';
import { connect, disconnect, receiveFrame } from '../lib/live/socket.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * The WebSocket API's `$connect`, `$disconnect` and `$default` routes (`GET /api/v4/websocket`):
 * decodes API Gateway's event and calls the protocol in lib/live/socket.ts. Replies go back
 * through the Management API, so the answer here is only the status API Gateway wants; an
 * unexpected failure is logged and answers 500 without detail.
 */
export interface WebSocketEvent {
  requestContext: { routeKey: string; connectionId: string; eventType?: string };
  headers?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface WebSocketResult {
  statusCode: number;
  body?: string;
  headers?: Record<string, string>;
}

export const createHandler = (runtime: Runtime) => async (event: WebSocketEvent): Promise<WebSocketResult> => {
  const live = liveFor(runtime);
  const { routeKey, connectionId } = event.requestContext;
  const logger = runtime.logger.createChild({ persistentKeys: { route: `websocket ${routeKey}`, connection_id: connectionId } });
  if (!live) {
    logger.error('WEBSOCKET_MANAGEMENT_ENDPOINT is not set');
    return { statusCode: 500 };
  }
  try {
    if (routeKey === '$connect') {
      const authorization = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
      const outcome = await connect(runtime, live, connectionId, authorization);
      if (outcome.status === 401) {
        logger.info('websocket refused', { status: 401, error_id: outcome.error.id });
        return errorResponse(outcome.error, randomUUID()) as WebSocketResult;
      }
      return { statusCode: 200 };
    }
    if (routeKey === '$disconnect') {
      await disconnect(live, connectionId);
      return { statusCode: 200 };
    }
    const frame = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    await receiveFrame(runtime, live, connectionId, frame);
    return { statusCode: 200 };
  } catch (error) {
    logger.error('websocket route failed', { error: String(error) });
    return { statusCode: 500 };
  }
};

let deployed: ReturnType<typeof createHandler> | undefined;
export const handler: ReturnType<typeof createHandler> = (event) => (deployed ??= createHandler(runtimeFromEnv()))(event);
