/**
 * `@mattermost/client`'s WebSocketClient as the tests drive it: it records every event, and
 * `waitFor` polls the record for one that matches. `header` authenticates at the upgrade with an
 * Authorization header instead of the `authentication_challenge` action.
 */
import { WebSocketClient } from '@mattermost/client';
import { client4 } from './client4.js';

export interface LiveMessage {
  event: string;
  seq: number;
  data: Record<string, any>;
  broadcast: Record<string, any>;
}

export type LiveConnection = ReturnType<typeof connectLive>;

/** Where Client4 says the websocket is, with the ws scheme, as the web app computes it. */
export function websocketUrlOf(apiUrl: string): string {
  return client4(apiUrl, '').getWebSocketUrl().replace(/^http/, 'ws');
}

/** Opens a connection for `token`; every client is also pushed to `clients`, for the file's afterAll to close. */
export function connectLive(apiUrl: string, token: string, clients: WebSocketClient[], mode: 'challenge' | 'header' = 'challenge') {
  const events: LiveMessage[] = [];
  const client = new WebSocketClient({
    ...(mode === 'header' ? { newWebSocketFn: (url: string) => new WebSocket(url, { headers: { authorization: `Bearer ${token}` } } as never) } : {}),
    // No reconnect during a test unless the test makes one.
    minWebSocketRetryTime: 60_000,
  });
  client.addMessageListener((message) => events.push(message as unknown as LiveMessage));
  client.initialize(websocketUrlOf(apiUrl), mode === 'challenge' ? token : undefined);
  clients.push(client);
  const waitFor = async (predicate: (message: LiveMessage) => boolean, timeoutMs = 10_000): Promise<LiveMessage> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching event; received ${JSON.stringify(events.map((event) => event.event))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { client, events, waitFor, ready: () => waitFor((message) => message.event === 'hello') };
}
