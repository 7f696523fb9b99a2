/**
 * Mattermost's websocket protocol on API Gateway's three routes. `$connect` authenticates an
 * `Authorization` header (a bad token refuses the upgrade with 401, as Mattermost does) or admits the
 * connection anonymously; `$default` answers client actions (`authentication_challenge`, `ping`,
 * ...) with `seq_reply` replies; `$disconnect` forgets the connection. API Gateway does not let a
 * connection be written to during `$connect`, so a connection authenticated by its header gets its
 * `hello` (seq 0) before the answer to its first frame; `@mattermost/client` sends a ping as soon as
 * the socket opens. Events flow only after `hello`.
 */
import { authenticate } from '../auth.js';
import { AppError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { failReply, helloEvent, okReply, serializeEvent, withSeq } from './events.js';
import type { Live } from './live.js';

/** A user's channels listed for the fan-out at hello; Mattermost's own cap on a user's channels is far above what a client shows. */
const MAX_CHANNELS_PER_CONNECTION = 2_000;
/** API Gateway's frame limit is 128 KB; a client frame is a few hundred bytes. */
const MAX_FRAME_BYTES = 128 * 1024;

export const socketErrors = {
  badSeq: () => new AppError('api.web_socket_router.bad_seq.app_error', 'Invalid sequence for WebSocket message.', 400),
  badAction: () => new AppError('api.web_socket_router.bad_action.app_error', 'Unknown WebSocket action.', 501),
  notAuthenticated: () => new AppError('api.web_socket_router.not_authenticated.app_error', 'Invalid or expired session, please login again.', 401),
  invalidParam: (name: string) => new AppError('api.websocket_handler.invalid_param.app_error', `Invalid ${name} parameter.`, 400),
};

export type ConnectOutcome = { status: 200 } | { status: 401; error: AppError };

/** `$connect`: a valid header token authenticates now; none leaves it to the challenge; a bad one refuses. */
export async function connect(runtime: Runtime, live: Live, connectionId: string, authorization: string | undefined): Promise<ConnectOutcome> {
  let userId: string | undefined;
  if (authorization !== undefined && authorization.trim() !== '') {
    try {
      userId = (await authenticate(runtime, authorization)).id;
    } catch (error) {
      if (error instanceof AppError) return { status: 401, error };
      throw error;
    }
  }
  await live.connections.create(connectionId, userId, runtime.nowMs());
  return { status: 200 };
}

export async function disconnect(live: Live, connectionId: string): Promise<void> {
  await live.connections.remove(connectionId);
}

/** `$default`: one frame from the client. Unreadable frames close the connection, as Mattermost's reader does. */
export async function receiveFrame(runtime: Runtime, live: Live, connectionId: string, frame: string): Promise<void> {
  const request = Buffer.byteLength(frame, 'utf8') <= MAX_FRAME_BYTES ? parseFrame(frame) : undefined;
  if (!request) {
    await live.sender.close(connectionId);
    await live.connections.remove(connectionId);
    return;
  }
  const connection = await live.connections.get(connectionId);
  if (!connection) return;
  const reply = async (message: string) => {
    if ((await live.sender.send(connectionId, message)) === 'gone') await live.connections.remove(connectionId);
  };
  if (connection.state === 'authenticated') await sendHello(runtime, live, connectionId, connection.userId);
  const seq = request.seq;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq <= 0) return reply(failReply(0, socketErrors.badSeq()));
  if (typeof request.action !== 'string' || request.action === '') return reply(failReply(seq, socketErrors.badAction()));

  if (request.action === 'authentication_challenge') {
    // Mattermost ignores a challenge on a connection that is authenticated already.
    if (connection.state !== 'anonymous') return;
    const token = (request.data as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || token === '') return reply(failReply(seq, socketErrors.invalidParam('token')));
    let userId: string;
    try {
      userId = (await authenticate(runtime, `Bearer ${token}`)).id;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // No hello, no events: the connection stays anonymous and may try another token.
      return reply(failReply(seq, error));
    }
    await reply(okReply(seq));
    return sendHello(runtime, live, connectionId, userId);
  }
  // A ping discloses nothing, and @mattermost/client sends one right behind its challenge: API
  // Gateway may run the two frames at once, so the ping is answered whatever the challenge's fate.
  if (request.action === 'ping') return reply(okReply(seq, { text: 'pong', version: runtime.config.version, server_time: runtime.nowMs(), node_id: '' }));
  if (connection.state === 'anonymous') return reply(failReply(seq, socketErrors.notAuthenticated()));
  switch (request.action) {
    // Presence and typing are not kept: the actions succeed and change nothing.
    case 'user_typing':
    case 'user_update_active_status':
    case 'presence':
      return reply(okReply(seq));
    case 'get_statuses':
    case 'get_statuses_by_ids':
      return reply(okReply(seq, {}));
    default:
      return reply(failReply(seq, socketErrors.badAction()));
  }
}

interface Frame {
  seq?: unknown;
  action?: unknown;
  data?: unknown;
}

function parseFrame(frame: string): Frame | undefined {
  try {
    const parsed: unknown = JSON.parse(frame);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Frame) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lists the connection where the fan-out finds it, sends `hello` with seq 0, then opens it: its next
 * event takes seq 1. An event published meanwhile finds it opening and waits (lib/live/live.ts), so
 * every event stays behind the hello and none published after the client saw its hello is missed.
 */
async function sendHello(runtime: Runtime, live: Live, connectionId: string, userId: string): Promise<void> {
  // Frames of one connection may run at once: only the one that claims it sends the hello.
  if (!(await live.connections.claimHello(connectionId, userId))) return;
  const channelIds = await runtime.entities.channelIdsOfUser(userId, MAX_CHANNELS_PER_CONNECTION);
  if (!(await live.connections.list(connectionId, userId, channelIds, runtime.nowMs()))) return;
  let sent: Awaited<ReturnType<typeof live.sender.send>>;
  try {
    sent = await live.sender.send(connectionId, withSeq(serializeEvent(helloEvent(connectionId, userId, runtime.config)), 0));
  } catch (error) {
    // Unlisted, so no fan-out waits on it; its next frame (the client pings) tries again.
    await live.connections.unclaimHello(connectionId);
    throw error;
  }
  if (sent === 'gone') {
    await live.connections.remove(connectionId);
    return;
  }
  await live.connections.open(connectionId);
}
