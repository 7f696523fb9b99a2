import { AppError } from '../errors.js';
import { isValidId } from '../ids.js';
import type { Post } from '../model.js';
import type { Runtime } from '../runtime.js';
import type { SlackAttachment } from '../slack.js';
import { integrationPost, type IntegrationReply, type ReplyPath } from './integration-post.js';
import { PostExistsError, PostTooLargeError, RootPostMissingError } from '../store/posts.js';
import { buildPost, checkRootPost, invalidRootId, countRunes, goJsonRunes, MAX_POST_RUNES, MAX_USER_PROPS_RUNES, takeRunes } from './rules.js';

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
  rootId: string;
  /** The reply, its Slack text and attachments already processed (`processSlackText`). */
  reply: IntegrationReply;
  how: Extract<ReplyPath, { path: 'webhook' }>;
}

/**
 * Mattermost's `CreateWebhookPost`, shared by incoming webhooks and outgoing-webhook replies: the
 * reply mapped to a post (`integrationPost`), the root checked, then the post split and its parts
 * stored all together.
 */
export async function createWebhookPost(
  runtime: Runtime,
  input: WebhookPostInput,
  options: { postIdFor?: (index: number) => string } = {},
): Promise<Post[]> {
  const mapped = integrationPost(runtime.config, input.reply, input.how);
  if (input.rootId && !isValidId(input.rootId)) throw invalidRootId();
  if (input.rootId) checkRootPost(await runtime.posts.getPost(input.rootId), input.channelId);

  const attachments = (mapped.props.attachments ?? []) as SlackAttachment[];
  const splits = splitWebhookPost(mapped.message, mapped.props, attachments);
  const nowMs = runtime.nowMs();
  // Consecutive timestamps keep the parts of a split in order when read back.
  const posts = splits.map((split, index) =>
    buildPost(
      { ...mapped, userId: input.userId, channelId: input.channelId, rootId: input.rootId, message: split.message, props: split.props },
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
