/**
 * Slack compatibility, as Mattermost applies it: announcements, user-id mentions,
 * link markup, attachment decoding with Go's rules, and field values stringified as Go's `%v`.
 */
import * as z from './zod.js';
import { AppError } from './errors.js';
import { canonicalizeKeys, goString, isPlainObject } from './http/go-json.js';
import { isValidId } from './ids.js';
import { MAX_USER_ID_MENTIONS } from './limits.js';
import { MAX_ACTIONS_PER_ATTACHMENT, MAX_ATTACHMENTS, MAX_FIELDS_PER_ATTACHMENT, MAX_OPTIONS_PER_ACTION } from './limits.js';

export interface SlackAttachmentField {
  title: string;
  value: unknown;
  short: boolean;
}

/** Serialized with every key, as Mattermost's Go struct is (only `actions` is omitted when empty). */
export interface SlackAttachment {
  id: number;
  fallback: string;
  color: string;
  pretext: string;
  author_name: string;
  author_link: string;
  author_icon: string;
  title: string;
  title_link: string;
  text: string;
  fields: SlackAttachmentField[] | null;
  image_url: string;
  thumb_url: string;
  footer: string;
  footer_icon: string;
  ts: unknown;
  actions?: Record<string, unknown>[];
}

export class SlackDecodeError extends Error {}

/** Mattermost's `PostPriority`, keys matched as Go matches them; `null` when absent. */
export const goPriority = z.pipe(
  z.nullish(
    z.pipe(
      z.pipe(
        z.record(z.string(), z.unknown()),
        z.transform((raw: Record<string, unknown>) => canonicalizeKeys(raw, ['priority', 'requested_ack', 'persistent_notifications'])),
      ),
      z.object({
        priority: z.nullish(z.string()),
        requested_ack: z.nullish(z.boolean()),
        persistent_notifications: z.nullish(z.boolean()),
      }),
    ),
  ),
  z.transform((value: Record<string, unknown> | null | undefined) =>
    value ? Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) : null,
  ),
);

/** Mattermost's SlackCompatibleBool: true, false, or those words in any case as strings. */
const slackCompatibleBool = z.pipe(
  z.optional(z.union([z.boolean(), z.string(), z.null()])),
  z.transform((value: boolean | string | null | undefined, ctx) => {
    if (value === undefined || value === null) return false;
    if (typeof value === 'boolean') return value;
    const lowered = value.toLowerCase();
    if (lowered === 'true') return true;
    if (lowered === 'false') return false;
    return z.refuse(ctx, `"${value}" is not a boolean`);
  }),
);

const FIELD_KEYS = ['title', 'value', 'short'] as const;
const ATTACHMENT_KEYS = [
  'id',
  'fallback',
  'color',
  'pretext',
  'author_name',
  'author_link',
  'author_icon',
  'title',
  'title_link',
  'text',
  'fields',
  'image_url',
  'thumb_url',
  'footer',
  'footer_icon',
  'ts',
  'actions',
] as const;

const fieldSchema = z.object({ title: goString, value: z.optional(z.unknown()), short: slackCompatibleBool });

const attachmentSchema = z.object({
  id: z.pipe(
    z.nullish(z.number().check(z.int())),
    z.transform((value: number | null | undefined) => value ?? 0),
  ),
  fallback: goString,
  color: goString,
  pretext: goString,
  author_name: goString,
  author_link: goString,
  author_icon: goString,
  title: goString,
  title_link: goString,
  text: goString,
  fields: z.nullish(z.array(z.unknown())),
  image_url: goString,
  thumb_url: goString,
  footer: goString,
  footer_icon: goString,
  ts: z.optional(z.unknown()),
  actions: z.nullish(z.array(z.unknown())),
});

function decodeField(raw: unknown): SlackAttachmentField | null {
  if (raw === null) return null;
  if (!isPlainObject(raw)) throw new SlackDecodeError('attachment field is not an object');
  const parsed = fieldSchema.safeParse(canonicalizeKeys(raw, FIELD_KEYS));
  if (!parsed.success) throw new SlackDecodeError(parsed.error.issues[0]?.message ?? 'invalid attachment field');
  return { title: parsed.data.title, value: parsed.data.value ?? null, short: parsed.data.short };
}

/** The list caps of one attachment, checked before anything in it is decoded. */
function checkAttachmentLists(attachment: Record<string, unknown>): void {
  const { fields, actions } = attachment;
  if (Array.isArray(fields) && fields.length > MAX_FIELDS_PER_ATTACHMENT) {
    throw new SlackDecodeError(`an attachment has more than ${MAX_FIELDS_PER_ATTACHMENT} fields`);
  }
  if (!Array.isArray(actions)) return;
  if (actions.length > MAX_ACTIONS_PER_ATTACHMENT) throw new SlackDecodeError(`an attachment has more than ${MAX_ACTIONS_PER_ATTACHMENT} actions`);
  for (const action of actions) {
    const options = isPlainObject(action) ? action.options : undefined;
    if (Array.isArray(options) && options.length > MAX_OPTIONS_PER_ACTION) {
      throw new SlackDecodeError(`an action has more than ${MAX_OPTIONS_PER_ACTION} options`);
    }
  }
}

function decodeAttachment(raw: unknown): SlackAttachment | null {
  if (raw === null) return null;
  if (!isPlainObject(raw)) throw new SlackDecodeError('attachment is not an object');
  const canonical = canonicalizeKeys(raw, ATTACHMENT_KEYS);
  checkAttachmentLists(canonical);
  const parsed = attachmentSchema.safeParse(canonical);
  if (!parsed.success) throw new SlackDecodeError(parsed.error.issues[0]?.message ?? 'invalid attachment');
  const d = parsed.data;
  // Key order of Mattermost's Go struct, so stored JSON reads (and measures) the same.
  const attachment: SlackAttachment = {
    id: d.id,
    fallback: d.fallback,
    color: d.color,
    pretext: d.pretext,
    author_name: d.author_name,
    author_link: d.author_link,
    author_icon: d.author_icon,
    title: d.title,
    title_link: d.title_link,
    text: d.text,
    fields: d.fields ? d.fields.map(decodeField).filter((field): field is SlackAttachmentField => field !== null) : null,
    image_url: d.image_url,
    thumb_url: d.thumb_url,
    footer: d.footer,
    footer_icon: d.footer_icon,
    ts: d.ts ?? null,
  };
  const actions = d.actions;
  const decodedActions = (actions ?? []).filter((action) => action !== null);
  if (decodedActions.some((action) => !isPlainObject(action))) throw new SlackDecodeError('action is not an object');
  if (decodedActions.length > 0) attachment.actions = decodedActions as Record<string, unknown>[];
  return attachment;
}

/**
 * Decodes an `attachments` value as Mattermost does: null entries and null fields dropped, every
 * field value stringified (`StringifySlackFieldValue`), and an empty result meaning "none".
 */
export function decodeAttachments(raw: unknown): SlackAttachment[] | null {
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) throw new SlackDecodeError('attachments is not an array');
  if (raw.length > MAX_ATTACHMENTS) throw new SlackDecodeError(`more than ${MAX_ATTACHMENTS} attachments`);
  const attachments = raw.map(decodeAttachment).filter((attachment): attachment is SlackAttachment => attachment !== null);
  if (attachments.length === 0) return null;
  for (const attachment of attachments) {
    for (const field of attachment.fields ?? []) if (field.value !== null) field.value = formatGoValue(field.value);
  }
  return attachments;
}

/** Go's shortest `%v` rendering of a float64: exponent form below 1e-4 and from 1e6 on. */
function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa = '0', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

/** `fmt.Sprintf("%v", v)` for a value decoded from JSON into Go's `interface{}`. */
export function formatGoValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return formatGoFloat(value);
  if (Array.isArray(value)) return `[${value.map(formatGoValue).join(' ')}]`;
  if (isPlainObject(value)) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${key}:${formatGoValue(value[key])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(value);
}

/** `expandAnnouncement`: Slack's special mentions to Mattermost's. */
export function expandAnnouncement(text: string): string {
  if (!text.includes('<!')) return text;
  return text.replaceAll('<!channel>', '@channel').replaceAll('<!here>', '@here').replaceAll('<!all>', '@all');
}

const USER_ID_MENTION = /<@([a-zA-Z0-9]+)>/g;

export type UsernameLookup = (userId: string) => Promise<string | undefined>;

/**
 * A lookup for one request: ids that are not Mattermost ids are unknown without a lookup, and more
 * than `maxIds` distinct ids in the whole request answer 400 before the one past the cap is read.
 */
export function boundedUsernameLookup(usernameOf: UsernameLookup, maxIds = MAX_USER_ID_MENTIONS): UsernameLookup {
  const seen = new Set<string>();
  return async (userId) => {
    if (!isValidId(userId)) return undefined;
    if (!seen.has(userId)) {
      if (seen.size >= maxIds) {
        throw new AppError('api.slack.too_many_user_mentions.app_error', `A post may mention at most ${maxIds} different user ids as <@id>.`, 400);
      }
      seen.add(userId);
    }
    return usernameOf(userId);
  };
}

/** `replaceUserIds`: `<@id>` becomes `@username` for ids of known users; others stay as they are. */
export async function replaceUserIds(text: string, usernameOf: UsernameLookup): Promise<string> {
  if (!text.includes('<@')) return text;
  const ids = [...new Set([...text.matchAll(USER_ID_MENTION)].map((match) => match[1]!))];
  if (ids.length === 0) return text;
  const names = new Map<string, string>();
  await Promise.all(
    ids.map(async (id) => {
      const username = await usernameOf(id);
      if (username !== undefined) names.set(id, username);
    }),
  );
  return text.replace(USER_ID_MENTION, (whole, id: string) => {
    const username = names.get(id);
    return username === undefined ? whole : `@${username}`;
  });
}

/** `ProcessSlackText`. */
export function processSlackText(text: string, usernameOf: UsernameLookup): Promise<string> {
  return replaceUserIds(expandAnnouncement(text), usernameOf);
}

/** `ProcessSlackAttachments`: the text processing on pretext, text, title and string field values. */
export async function processSlackAttachments(
  attachments: SlackAttachment[],
  usernameOf: UsernameLookup,
): Promise<SlackAttachment[]> {
  for (const attachment of attachments) {
    attachment.pretext = await processSlackText(attachment.pretext, usernameOf);
    attachment.text = await processSlackText(attachment.text, usernameOf);
    attachment.title = await processSlackText(attachment.title, usernameOf);
    for (const field of attachment.fields ?? []) {
      if (typeof field.value === 'string') field.value = await processSlackText(field.value, usernameOf);
    }
  }
  return attachments;
}

// Two link patterns, as in Mattermost: the app's (webhook and outgoing-response text) forbids
// newlines; the model's (attachments, command text, ephemeral text) allows them.
const APP_LINK = /<([^\n<|>]+)\|([^|\n>]+)>/g;
const MODEL_LINK = /<([^<|]+)\|([^>]+)>/g;

/** `<url|label>` to `[label](url)`, with the app's pattern. */
export function convertAppLinks(text: string): string {
  return text.includes('|') ? text.replace(APP_LINK, '[$2]($1)') : text;
}

/** `ParseSlackLinksToMarkdown`, the model's pattern. */
export function convertModelLinks(text: string): string {
  return text.includes('|') ? text.replace(MODEL_LINK, '[$2]($1)') : text;
}

/**
 * `ParseSlackAttachment`: links in attachment text, pretext and string field values become
 * Markdown. Mattermost applies this always, even with `skip_slack_parsing`; titles are left alone.
 */
export function convertAttachmentLinks(attachments: SlackAttachment[]): SlackAttachment[] {
  for (const attachment of attachments) {
    attachment.text = convertModelLinks(attachment.text);
    attachment.pretext = convertModelLinks(attachment.pretext);
    for (const field of attachment.fields ?? []) {
      if (typeof field.value === 'string') field.value = convertModelLinks(field.value);
    }
  }
  return attachments;
}
