import { AppError } from '../errors.js';
import { isValidId } from '../ids.js';
import type { Post, PostOrigin, PostPriority } from '../model.js';
import type { Runtime } from '../runtime.js';
import { convertAppLinks, convertAttachmentLinks, type SlackAttachment } from '../slack.js';
import { prepareActions } from './attachments.js';
import { PostExistsError, PostTooLargeError, RootPostMissingError } from '../store/posts.js';
import {
  buildPost,
  checkPostType,
  checkRootPost,
  invalidRootId,
  countRunes,
  goJsonRunes,
  MAX_POST_RUNES,
  MAX_USER_PROPS_RUNES,
  RESERVED_PROPS,
  takeRunes,
  type NewPost,
} from './rules.js';

const DEFAULT_WEBHOOK_USERNAME = 'webhook';

const splitPropsError = () =>
  new AppError(
    'web.incoming_webhook.split_props_length.app_error',
    `Unable to split webhook props into ${MAX_USER_PROPS_RUNES} character parts.`,
    400,
  );

export interface Split {
  message: string;
  props: Record<string, unknown>;
}

/** The JSON of `{...props, attachments: [a, b]}` is the props' own JSON with `,"attachments":[` ... `]` spliced before the `}`. */
const ATTACHMENTS_KEY_RUNES = '"attachments":['.length + ']'.length;

/**
 * Mattermost's `splitWebhookPost`: text in chunks of `maxPostRunes`, then the
 * attachments packed onto the last chunk while the props stay within `maxPropsRunes`, a new
 * empty-text post taking over when they do not fit, and a lone oversized attachment's text cut.
 *
 * Linear: Mattermost re-measures the whole candidate props for every attachment, which is
 * quadratic in their number. JSON's size is additive, so each attachment is measured once (twice
 * when its text is cut) and the last split's size is kept as a running total; the output is the
 * same. `sizeOf` measures a value as Go's JSON would (a parameter so tests can count the calls).
 */
export function splitWebhookPost(
  message: string,
  props: Record<string, unknown>,
  attachments: SlackAttachment[],
  maxPostRunes = MAX_POST_RUNES,
  maxPropsRunes = MAX_USER_PROPS_RUNES,
  sizeOf: (value: unknown) => number = goJsonRunes,
): Split[] {
  const baseProps = { ...props };
  delete baseProps.attachments;
  const baseRunes = sizeOf(baseProps);
  if (baseRunes > maxPropsRunes) throw splitPropsError();
  // Props with attachments: the base props, a separating comma when they have keys, the key and brackets.
  const withAttachmentsRunes = baseRunes + (Object.keys(baseProps).length > 0 ? 1 : 0) + ATTACHMENTS_KEY_RUNES;

  const splits: Split[] = [];
  let remaining = message;
  let remainingRunes = countRunes(remaining);
  while (remainingRunes > maxPostRunes) {
    const chunk = takeRunes(remaining, maxPostRunes);
    splits.push({ message: chunk, props: { ...baseProps } });
    remaining = remaining.slice(chunk.length);
    remainingRunes -= maxPostRunes;
  }
  splits.push({ message: remaining, props: { ...baseProps } });

  // The last split's attachments and the runes of their JSON elements, commas included.
  let packed: SlackAttachment[] = [];
  let packedRunes = 0;
  const close = () => {
    if (packed.length > 0) splits[splits.length - 1]!.props = { ...baseProps, attachments: packed };
  };
  for (const attachment of attachments) {
    const copy = structuredClone(attachment);
    const copyRunes = sizeOf(copy);
    for (;;) {
      const separator = packed.length > 0 ? 1 : 0;
      const size = withAttachmentsRunes + packedRunes + separator + copyRunes;
      if (size <= maxPropsRunes) {
        packed.push(copy);
        packedRunes += separator + copyRunes;
        break;
      }
      if (packed.length > 0) {
        close();
        splits.push({ message: '', props: { ...baseProps } });
        packed = [];
        packedRunes = 0;
        continue;
      }
      const excess = size - maxPropsRunes;
      const textRunes = countRunes(copy.text);
      if (textRunes < excess) throw splitPropsError();
      copy.text = takeRunes(copy.text, textRunes - excess);
      packed.push(copy);
      // Measured again: cutting runes of text can shrink the JSON by more (escapes), as in Mattermost.
      packedRunes += sizeOf(copy);
      break;
    }
  }
  close();
  return splits;
}

export interface WebhookPostInput {
  userId: string;
  channelId: string;
  text: string;
  type: string;
  rootId: string;
  overrideUsername: string;
  overrideIconUrl: string;
  overrideIconEmoji: string;
  props: Record<string, unknown>;
  attachments: SlackAttachment[] | null;
  priority: PostPriority | null;
  /** Set by incoming webhooks to the hook's display name; never taken from the caller's props. */
  webhookDisplayName?: string;
  /** The hook that makes the post. */
  origin: PostOrigin;
}

/**
 * Mattermost's `CreateWebhookPost`, shared by incoming webhooks and integration
 * replies: links converted, overrides gated by configuration, server-owned props protected,
 * attachments stored, then split and stored all together.
 */

export async function createWebhookPost(
  runtime: Runtime,
  input: WebhookPostInput,
  options: { postIdFor?: (index: number) => string } = {},
): Promise<Post[]> {
  const { config } = runtime;
  const props: Record<string, unknown> = { from_webhook: 'true' };
  let metadata: NewPost['metadata'];
  if (input.priority) {
    if (input.priority.priority === undefined || input.priority.priority === null) {
      throw new AppError(
        'api.context.invalid_param.app_error',
        'Invalid or missing webhook.priority.priority parameter in request body.',
        400,
      );
    }
    metadata = { priority: input.priority };
  }
  checkPostType(input.type);
  if (config.enablePostUsernameOverride) props.override_username = input.overrideUsername || DEFAULT_WEBHOOK_USERNAME;
  if (config.enablePostIconOverride) {
    if (input.overrideIconUrl) props.override_icon_url = input.overrideIconUrl;
    if (input.overrideIconEmoji) props.override_icon_emoji = input.overrideIconEmoji;
  }
  for (const [key, value] of Object.entries(input.props)) {
    // Raw `props.attachments` is dropped: only the typed top-level `attachments` become attachments.
    if (key === 'attachments' || RESERVED_PROPS.includes(key)) continue;
    props[key] = value;
  }
  if (input.webhookDisplayName !== undefined) props.webhook_display_name = input.webhookDisplayName;

  let type = input.type;
  const attachments = input.attachments ? (prepareActions(convertAttachmentLinks(input.attachments)) ?? []) : [];
  if (input.attachments && type === '') type = 'slack_attachment';

  if (input.rootId && !isValidId(input.rootId)) throw invalidRootId();
  if (input.rootId) checkRootPost(await runtime.posts.getPost(input.rootId), input.channelId);

  const splits = splitWebhookPost(convertAppLinks(input.text), props, attachments);
  const nowMs = runtime.nowMs();
  // Consecutive timestamps keep the parts of a split in order when read back.
  const posts = splits.map((split, index) =>
    buildPost(
      {
        userId: input.userId,
        channelId: input.channelId,
        rootId: input.rootId,
        message: split.message,
        type,
        props: split.props,
        ...(metadata ? { metadata } : {}),
        origin: input.origin,
      },
      nowMs + index,
      options.postIdFor?.(index),
    ),
  );
  try {
    await runtime.posts.createPosts(posts);
  } catch (error) {
    // A retried delivery finds the reply its earlier attempt wrote (ids derive from the delivery).
    if (options.postIdFor && error instanceof PostExistsError) throw error;
    if (error instanceof RootPostMissingError) throw invalidRootId();
    if (error instanceof PostTooLargeError) {
      throw new AppError('api.post.create_post.too_large.app_error', 'The post is too large to store.', 413);
    }
    throw new AppError(
      'api.post.create_webhook_post.creating.app_error',
      'Error creating post',
      500,
      error instanceof Error ? error.message : String(error),
    );
  }
  return posts;
}
