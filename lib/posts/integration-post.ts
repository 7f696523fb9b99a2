/**
 * The one mapping from an integration's reply to a post, for incoming webhooks and outgoing-webhook
 * replies (Mattermost's `CreateWebhookPost`), command answers (`HandleCommandResponsePost` and
 * `CreateCommandPost`) and action answers (`DoPostActionWithCookie`: the `update` of the clicked
 * post and the `ephemeral_text` under it). What every path shares:
 * - the props are the reply's, without the server-owned ones (`RESERVED_PROPS`), which the server
 *   sets: `from_webhook`, the username and icon overrides as configuration allows, the hook's name;
 * - typed attachments become `props.attachments` (`ParseSlackAttachment`: links converted, action
 *   ids given) and make an untyped post `slack_attachment`;
 * - a new post may not take a `system_` type.
 * The `ReplyPath` names where Mattermost's paths differ; its comments say how. Slack's text
 * processing (`ProcessSlackText`, which looks users up) stays with the callers, which run it where
 * Mattermost does; splitting, checks and storage follow this mapping.
 */
import { AppError } from '../errors.js';
import type { Config } from '../config.js';
import type { Post, PostOrigin, PostPriority } from '../model.js';
import { convertAppLinks, convertAttachmentLinks, convertModelLinks, type SlackAttachment } from '../slack.js';
import { prepareActions, RETAINED_PROPS } from './attachments.js';
import { checkPostType, RESERVED_PROPS, type NewPost } from './rules.js';

/** What an integration answered, as its decoder read it. */
export interface IntegrationReply {
  text: string;
  type: string;
  props: Record<string, unknown>;
  attachments: SlackAttachment[] | null;
}

/** The display overrides a reply asks for, the hook's or command's own already preferred as each path does. */
export interface ReplyOverrides {
  username: string;
  iconUrl: string;
  iconEmoji: string;
}

export type ReplyPath =
  /**
   * `CreateWebhookPost`: links converted with the webhook path's pattern; a raw `props.attachments`
   * dropped (only typed attachments are attachments); the username override defaults to `webhook`;
   * the icon overrides set only when given; the hook's display name and the post's priority kept.
   */
  | { path: 'webhook'; overrides: ReplyOverrides; displayName: string; priority: PostPriority | null; origin: PostOrigin }
  /**
   * `HandleCommandResponsePost` and `CreateCommandPost`: links converted with the model's pattern
   * unless `skip_slack_parsing`; a raw `props.attachments` kept; the username override set only
   * when there is one; the icon override always set when allowed, empty when there is none.
   */
  | { path: 'command'; overrides: Pick<ReplyOverrides, 'username' | 'iconUrl'>; skipSlackParsing: boolean; origin: PostOrigin }
  /**
   * An action's `update` of `original`: the message as sent, the post's type and origin kept, and
   * the server-owned props the post's own. The retained ones (`PostActionRetainPropKeys`) are kept
   * as Mattermost keeps them; the others (the icon emoji, the hook's name) an update may change only
   * on a post an integration made: on a user's post they would let a button pose as an integration.
   */
  | { path: 'action_update'; original: Post }
  /** An action's `ephemeral_text`: a system message with the clicked post's retained props, links converted unless `skip_slack_parsing`. */
  | { path: 'action_ephemeral'; original: Post; skipSlackParsing: boolean };

export type MappedPost = Pick<NewPost, 'message' | 'type' | 'props' | 'metadata' | 'origin'>;

type Overrides = Pick<Config, 'enablePostUsernameOverride' | 'enablePostIconOverride'>;

const DEFAULT_WEBHOOK_USERNAME = 'webhook';

/** The server-owned props of a new post from an integration. */
function integrationProps(config: Overrides, how: Extract<ReplyPath, { path: 'webhook' | 'command' }>): Record<string, unknown> {
  const props: Record<string, unknown> = { from_webhook: 'true' };
  const { username, iconUrl } = how.overrides;
  if (config.enablePostUsernameOverride) {
    if (how.path === 'webhook') props.override_username = username || DEFAULT_WEBHOOK_USERNAME;
    else if (username) props.override_username = username;
  }
  if (config.enablePostIconOverride) {
    if (how.path === 'command') props.override_icon_url = iconUrl;
    else {
      if (iconUrl) props.override_icon_url = iconUrl;
      if (how.overrides.iconEmoji) props.override_icon_emoji = how.overrides.iconEmoji;
    }
  }
  if (how.path === 'webhook') props.webhook_display_name = how.displayName;
  return props;
}

/** The server-owned props an action's answer leaves on the clicked post (see `ReplyPath`). */
function keptProps(original: Post, reply: Record<string, unknown>, path: 'action_update' | 'action_ephemeral'): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const key of RETAINED_PROPS) if (original.props[key] !== undefined) props[key] = original.props[key];
  if (path === 'action_update' && original.props.from_webhook === 'true') {
    for (const key of RESERVED_PROPS) if (!RETAINED_PROPS.includes(key) && reply[key] !== undefined) props[key] = reply[key];
  }
  return props;
}

function priorityMetadata(priority: PostPriority | null): NewPost['metadata'] {
  if (!priority) return undefined;
  if (priority.priority === undefined || priority.priority === null) {
    throw new AppError('api.context.invalid_param.app_error', 'Invalid or missing webhook.priority.priority parameter in request body.', 400);
  }
  return { priority };
}

/** The post an integration's reply makes (or, for an action's update, the clicked post's new message, type and props). */
export function integrationPost(config: Overrides, reply: IntegrationReply, how: ReplyPath): MappedPost {
  const fresh = how.path === 'webhook' || how.path === 'command';
  const metadata = how.path === 'webhook' ? priorityMetadata(how.priority) : undefined;
  if (fresh) checkPostType(reply.type);

  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(reply.props)) {
    if (RESERVED_PROPS.includes(key) || (key === 'attachments' && how.path === 'webhook')) continue;
    props[key] = value;
  }
  Object.assign(props, fresh ? integrationProps(config, how) : keptProps(how.original, reply.props, how.path));

  let type = how.path === 'action_update' ? how.original.type : how.path === 'action_ephemeral' ? 'system_ephemeral' : reply.type;
  if (reply.attachments) {
    props.attachments = prepareActions(convertAttachmentLinks(reply.attachments));
    if (type === '') type = 'slack_attachment';
  }

  let message = reply.text;
  if (how.path === 'webhook') message = convertAppLinks(message);
  else if (how.path !== 'action_update' && !how.skipSlackParsing) message = convertModelLinks(message);

  const origin = fresh ? how.origin : how.path === 'action_update' ? how.original.origin : undefined;
  return { message, type, props, ...(metadata ? { metadata } : {}), ...(origin ? { origin } : {}) };
}
