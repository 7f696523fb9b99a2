/**
 * Mattermost's websocket messages: the event envelope (`event`, `data`, `broadcast`, `seq`) and the
 * replies to client actions (`status`, `seq_reply`, `error`). Objects inside `data` travel as JSON
 * strings, as Mattermost sends them, and posts always go through `postForClient`, so clients never
 * see an action's integration URL or context. An event is serialized once without its `seq`;
 * `withSeq` appends each connection's number, so a fan-out to thousands of connections does not
 * serialize the post thousands of times.
 */
import type { AppError } from '../errors.js';
import type { Channel, Post, Reaction } from '../model.js';
import type { Config } from '../config.js';
import { postForClient } from '../posts/for-client.js';

export interface Broadcast {
  omit_users: Record<string, boolean> | null;
  user_id: string;
  channel_id: string;
  team_id: string;
  connection_id: string;
  omit_connection_id: string;
}

export interface LiveEvent {
  event: string;
  data: Record<string, unknown>;
  broadcast: Broadcast;
}

export function broadcast(to: Partial<Broadcast>): Broadcast {
  return { omit_users: null, user_id: '', channel_id: '', team_id: '', connection_id: '', omit_connection_id: '', ...to };
}

/** The event as JSON without its closing brace's `seq`; see `withSeq`. */
export function serializeEvent(event: LiveEvent): string {
  return JSON.stringify({ event: event.event, data: event.data, broadcast: event.broadcast });
}

/** The serialized event with this connection's `seq` as its last member. */
export function withSeq(serialized: string, seq: number): string {
  return `${serialized.slice(0, -1)},"seq":${seq}}`;
}

export function helloEvent(connectionId: string, userId: string, config: Pick<Config, 'version'>): LiveEvent {
  return {
    event: 'hello',
    data: { server_version: config.version, connection_id: connectionId, server_hostname: '' },
    broadcast: broadcast({ user_id: userId }),
  };
}

type ClientConfig = Pick<Config, 'enablePostIconOverride' | 'enablePostUsernameOverride'>;

/** `posted`, with the fields Mattermost's web app reads next to the post. */
export function postedEvent(
  post: Post,
  context: { channel: Channel; senderUsername: string; mentions: string[] },
  config: ClientConfig,
): LiveEvent {
  const override = post.props.override_username;
  const fromWebhook = post.props.from_webhook === 'true';
  const data: Record<string, unknown> = {
    channel_display_name: context.channel.display_name,
    channel_name: context.channel.name,
    channel_type: context.channel.type,
    post: JSON.stringify(postForClient(post, config)),
    sender_name: config.enablePostUsernameOverride && typeof override === 'string' && override !== '' ? override : `@${context.senderUsername}`,
    // Mattermost does not mark a user online for what a webhook posts in their name.
    set_online: !fromWebhook,
    team_id: context.channel.team_id,
  };
  if (context.mentions.length > 0) data.mentions = JSON.stringify(context.mentions);
  return { event: 'posted', data, broadcast: broadcast({ channel_id: post.channel_id }) };
}

export function postEditedEvent(post: Post, config: ClientConfig): LiveEvent {
  return {
    event: 'post_edited',
    data: { post: JSON.stringify(postForClient(post, config)) },
    // An ephemeral post's update goes to its one user (Mattermost's UpdateEphemeralPost).
    broadcast: broadcast({ channel_id: post.channel_id, user_id: post.ephemeral_for ?? '' }),
  };
}

export function postDeletedEvent(post: Post, config: ClientConfig): LiveEvent {
  const deleteBy = post.props.deleteBy;
  return {
    event: 'post_deleted',
    data: { post: JSON.stringify(postForClient(post, config)), ...(typeof deleteBy === 'string' ? { delete_by: deleteBy } : {}) },
    broadcast: broadcast({ channel_id: post.channel_id }),
  };
}

export function reactionEvent(kind: 'reaction_added' | 'reaction_removed', reaction: Reaction): LiveEvent {
  return { event: kind, data: { reaction: JSON.stringify(reaction) }, broadcast: broadcast({ channel_id: reaction.channel_id }) };
}

/**
 * A direct channel was created: Mattermost sends it to the channel (both members), with the two
 * users in its order of the request (`creator_id` first) and nothing else; clients read the channel
 * over REST.
 */
export function directAddedEvent(channelId: string, creatorId: string, teammateId: string): LiveEvent {
  return { event: 'direct_added', data: { creator_id: creatorId, teammate_id: teammateId }, broadcast: broadcast({ channel_id: channelId }) };
}

/** An ephemeral post for one user (a command's or an action's answer). */
export function ephemeralEvent(post: Post, userId: string, config: ClientConfig): LiveEvent {
  return {
    event: 'ephemeral_message',
    data: { post: JSON.stringify(postForClient(post, config)) },
    broadcast: broadcast({ user_id: userId, channel_id: post.channel_id }),
  };
}

/** What a client receives to open an interactive dialog: the request as a JSON string. */
export function openDialogEvent(userId: string, dialogRequest: Record<string, unknown>): LiveEvent {
  return { event: 'open_dialog', data: { dialog: JSON.stringify(dialogRequest) }, broadcast: broadcast({ user_id: userId }) };
}

/** A reply to a client's action (`seq_reply` is the action's `seq`). */
export function okReply(seqReply: number, data?: Record<string, unknown>): string {
  return JSON.stringify({ status: 'OK', seq_reply: seqReply, ...(data ? { data } : {}) });
}

/** Mattermost's FAIL reply: the error as its HTTP error JSON, `detailed_error` blank. */
export function failReply(seqReply: number, error: AppError): string {
  return JSON.stringify({
    status: 'FAIL',
    seq_reply: seqReply,
    error: { id: error.id, message: error.message, detailed_error: '', request_id: '', status_code: error.statusCode },
  });
}
