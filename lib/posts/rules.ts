import { AppError } from '../errors.js';
import { newPostId } from '../ids.js';
import { MAX_ACTIONS_PER_ATTACHMENT, MAX_ATTACHMENTS, MAX_FIELDS_PER_ATTACHMENT, MAX_JSON_DEPTH, MAX_OPTIONS_PER_ACTION, valueDepthExceeds } from '../limits.js';
import type { Channel, Post, PostMetadata, PostOrigin } from '../model.js';
import { prepareActions } from './attachments.js';
import type { SlackAttachment } from '../slack.js';

/** Mattermost's limits. */
export const MAX_POST_RUNES = 16_383;
export const MAX_PROPS_RUNES = 800_000;
export const MAX_USER_PROPS_RUNES = MAX_PROPS_RUNES - 40_000;

/** Props only the server sets; whatever a client or an integration sends under these names is dropped. */
export const RESERVED_PROPS = ['from_webhook', 'override_username', 'override_icon_url', 'override_icon_emoji', 'webhook_display_name'];

/** Unicode code points, as Go's `utf8.RuneCountInString`; JavaScript's `.length` counts UTF-16 units. */
export function countRunes(text: string): number {
  let runes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    runes++;
  }
  return runes;
}

/** The first `runes` code points of `text`. */
export function takeRunes(text: string, runes: number): string {
  let index = 0;
  for (let taken = 0; taken < runes && index < text.length; taken++) {
    const unit = text.charCodeAt(index);
    index += unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length ? 2 : 1;
  }
  return text.slice(0, index);
}

/**
 * The rune count of Go's `json.Marshal` of a value. Go escapes `<`, `>`, `&`, U+2028 and U+2029 as
 * six-character `\uXXXX` sequences where JavaScript writes one character, so those add five each.
 */
export function goJsonRunes(value: unknown): number {
  const encoded = JSON.stringify(value) ?? '';
  let escaped = 0;
  for (let i = 0; i < encoded.length; i++) {
    const unit = encoded.charCodeAt(i);
    if (unit === 0x3c || unit === 0x3e || unit === 0x26 || unit === 0x2028 || unit === 0x2029) escaped++;
  }
  return countRunes(encoded) + escaped * 5;
}

export function invalidRootId(): AppError {
  return new AppError('api.post.create_post.root_id.app_error', 'Invalid RootId parameter.', 400);
}

/**
 * A reply must name a live root post (not itself a reply) of the same channel, as Mattermost's
 * `CreatePost` requires.
 */
export function checkRootPost(root: Post | undefined, channelId: string): void {
  // An ephemeral post is no root: in Mattermost it is never stored, and here it is one user's alone.
  if (!root || root.delete_at !== 0 || root.root_id !== '' || root.ephemeral_for !== undefined) throw invalidRootId();
  if (root.channel_id !== channelId) {
    throw new AppError('api.post.create_post.channel_root_id.app_error', 'Invalid ChannelId for RootId parameter.', 400);
  }
}

export function checkChannelOpenForPosts(channel: Channel): void {
  if (channel.delete_at !== 0) {
    throw new AppError(
      'api.post.create_post.can_not_post_to_deleted.error',
      'Can not post to deleted channel.',
      400,
    );
  }
}

export function checkPostType(type: string): void {
  if (type.startsWith('system_')) {
    throw new AppError('api.context.invalid_param.app_error', 'Invalid or missing post.type parameter in request body.', 400);
  }
}

const messageTooLong = () => new AppError('model.post.is_valid.message_length.app_error', 'Invalid Message property length.', 400);
const invalidProps = () => new AppError('model.post.is_valid.props.app_error', 'Invalid Props property length.', 400);

/** Mattermost's `Post.IsValid` limits on a message and its props (runes), for posts not split on the way in. */
export function checkPostSize(message: string, props: Record<string, unknown>, maxPropsRunes = MAX_PROPS_RUNES): void {
  if (countRunes(message) > MAX_POST_RUNES) throw messageTooLong();
  if (goJsonRunes(props) > maxPropsRunes) throw invalidProps();
}

/**
 * Props nested deeper than MAX_JSON_DEPTH are refused on every write: stored, they would break
 * every read of the post's channel. The decoders refuse such JSON already; this also covers props
 * assembled by code.
 */
export function checkPropsDepth(props: Record<string, unknown>): void {
  if (valueDepthExceeds(props, MAX_JSON_DEPTH)) throw invalidProps();
}

export interface NewPost {
  userId: string;
  channelId: string;
  rootId: string;
  message: string;
  type: string;
  props: Record<string, unknown>;
  metadata?: PostMetadata;
  origin?: PostOrigin;
}

/**
 * The caps on attachments (docs/limits.md) hold for `props.attachments` too, whoever writes them: a
 * user's post or a command's answer may carry attachments as props, which the Slack decoder never
 * saw. Counts only; what the lists hold is the client's to render.
 */
export function checkPropsAttachmentCaps(props: Record<string, unknown>): void {
  const attachments = props.attachments;
  if (!Array.isArray(attachments)) return;
  const tooMany = (list: unknown, max: number) => Array.isArray(list) && list.length > max;
  if (attachments.length > MAX_ATTACHMENTS) throw invalidProps();
  for (const attachment of attachments) {
    if (typeof attachment !== 'object' || attachment === null) continue;
    const { fields, actions } = attachment as { fields?: unknown; actions?: unknown };
    if (tooMany(fields, MAX_FIELDS_PER_ATTACHMENT) || tooMany(actions, MAX_ACTIONS_PER_ATTACHMENT)) throw invalidProps();
    for (const action of Array.isArray(actions) ? actions : []) {
      if (typeof action === 'object' && action !== null && tooMany((action as { options?: unknown }).options, MAX_OPTIONS_PER_ACTION)) throw invalidProps();
    }
  }
}

/**
 * The one pre-save step of every new post, whatever its path: props depth and attachment caps,
 * and an id for each action of `props.attachments` that has none (`GenerateActionIds`), so that a
 * button a user posts through `POST /api/v4/posts` can be clicked as a webhook's can. Unless given
 * one (a retried delivery's reply keeps its derived id), the post's id carries its creation time.
 */
export function buildPost(input: NewPost, createAtMs: number, id = newPostId(createAtMs)): Post {
  checkPropsDepth(input.props);
  checkPropsAttachmentCaps(input.props);
  if (Array.isArray(input.props.attachments)) prepareActions(input.props.attachments as SlackAttachment[]);
  return {
    id,
    create_at: createAtMs,
    update_at: createAtMs,
    edit_at: 0,
    delete_at: 0,
    is_pinned: false,
    has_reactions: false,
    user_id: input.userId,
    channel_id: input.channelId,
    root_id: input.rootId,
    original_id: '',
    message: input.message,
    type: input.type,
    props: input.props,
    hashtags: '',
    pending_post_id: '',
    reply_count: 0,
    last_reply_at: 0,
    metadata: input.metadata ?? {},
    ...(input.origin ? { origin: input.origin } : {}),
  };
}
