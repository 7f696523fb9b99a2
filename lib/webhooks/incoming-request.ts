import busboy from 'busboy';
import * as z from '../zod.js';
import { AppError } from '../errors.js';
import { decodeUtf8, MediaTypeError, parseMediaType } from '../http/body.js';
import { decodeGoObject, goProps, goString, parseGoJson, type GoJsonOptions } from '../http/go-json.js';
import type { PostPriority } from '../model.js';
import { decodeAttachments, goPriority, SlackDecodeError, type SlackAttachment } from '../slack.js';

/** Mattermost's `IncomingWebhookRequest`, plus the newest `root_id`. */
export interface IncomingWebhookRequest {
  text: string;
  username: string;
  icon_url: string;
  channel: string;
  props: Record<string, unknown>;
  attachments: SlackAttachment[] | null;
  type: string;
  icon_emoji: string;
  priority: PostPriority | null;
  root_id: string;
}

const parseDataError = () =>
  new AppError('model.incoming_hook.parse_data.app_error', 'Unable to parse incoming data.', 400);
/** Mattermost's stable id for both a malformed media type and an undecodable multipart body. */
const incomingError = (message: string) => new AppError('api.webhook.incoming.error', message, 400);
const mediaTypeError = () => incomingError('Could not parse the media type of the incoming webhook.');
const multipartError = () => incomingError('Could not decode the multipart data of incoming webhook.');

const REQUEST_KEYS = [
  'text',
  'username',
  'icon_url',
  'channel',
  'props',
  'attachments',
  'type',
  'icon_emoji',
  'priority',
  'root_id',
] as const;

const requestSchema = z.object({
  text: goString,
  username: goString,
  icon_url: goString,
  channel: goString,
  props: goProps,
  attachments: z.optional(z.unknown()),
  type: goString,
  icon_emoji: goString,
  priority: goPriority,
  root_id: goString,
});

/**
 * `json.NewDecoder(r.Body).Decode(&o)` into a struct value: what follows the first value is ignored,
 * an empty body is an error, and `null` leaves the zero struct.
 */
const JSON_OPTIONS: GoJsonOptions = { trailing: 'ignore', empty: 'refuse', null: 'zero' };

function decodeRequestObject(value: unknown): IncomingWebhookRequest {
  try {
    const parsed = decodeGoObject(value, REQUEST_KEYS, requestSchema, JSON_OPTIONS)!;
    return { ...parsed, attachments: decodeAttachments(parsed.attachments) };
  } catch {
    // Any decoding failure, a field's type or an attachment's, is Mattermost's one parse error.
    throw parseDataError();
  }
}

const ESCAPABLE_KEYS = ['text', 'fallback', 'pretext', 'author_name', 'title', 'value'];

/**
 * Mattermost's `escapeControlCharsFromPayload`: inside the string values of a few known keys, raw
 * newlines and tabs become `\n` and `\t`. A scanner with the regex's semantics
 * (`"(text|…|value)"\s*:\s*"(\\"|[^"])*"`), without its backtracking on long inputs.
 */
export function escapeControlCharacters(input: string): string {
  let output = '';
  let i = 0;
  const isSpace = (char: string | undefined) => char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f';
  outer: while (i < input.length) {
    if (input[i] === '"') {
      for (const key of ESCAPABLE_KEYS) {
        if (!input.startsWith(`"${key}"`, i)) continue;
        let j = i + key.length + 2;
        while (isSpace(input[j])) j++;
        if (input[j] !== ':') continue;
        j++;
        while (isSpace(input[j])) j++;
        if (input[j] !== '"') continue;
        let k = j + 1;
        while (k < input.length && input[k] !== '"') k += input[k] === '\\' && input[k + 1] === '"' ? 2 : 1;
        if (k >= input.length) continue;
        const value = input.slice(j + 1, k).replaceAll('\n', '\\n').replaceAll('\t', '\\t');
        output += `${input.slice(i, j + 1)}${value}"`;
        i = k + 1;
        continue outer;
      }
    }
    output += input[i];
    i++;
  }
  return output;
}

/** `IncomingWebhookRequestFromJSON`: decode, and on any failure retry once with control characters escaped. */
export function decodeIncomingWebhookJson(text: string): IncomingWebhookRequest {
  let value: unknown;
  try {
    value = parseGoJson(text, JSON_OPTIONS);
  } catch {
    try {
      value = parseGoJson(escapeControlCharacters(text), JSON_OPTIONS);
    } catch {
      throw parseDataError();
    }
  }
  return decodeRequestObject(value);
}

/**
 * Multipart form fields, named as gorilla/schema matches the Go field names (case-insensitive):
 * `text`, `username`, `iconurl`, `channelname`, `type`, `iconemoji`. Hookline also accepts the JSON
 * names (`icon_url`, `channel`, `icon_emoji`, `root_id`), a documented divergence. Other keys are
 * refused, as gorilla/schema refuses unknown keys.
 */
const MULTIPART_FIELDS: Record<string, keyof IncomingWebhookRequest> = {
  text: 'text',
  username: 'username',
  iconurl: 'icon_url',
  icon_url: 'icon_url',
  channelname: 'channel',
  channel: 'channel',
  type: 'type',
  iconemoji: 'icon_emoji',
  icon_emoji: 'icon_emoji',
  rootid: 'root_id',
  root_id: 'root_id',
};

async function decodeMultipart(body: Buffer, contentType: string): Promise<IncomingWebhookRequest> {
  const values = new Map<string, string>();
  let unknownField = false;
  await new Promise<void>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // Values arrive as latin1 (byte for byte) so that invalid UTF-8 can be refused below.
      parser = busboy({ headers: { 'content-type': contentType }, defCharset: 'latin1', defParamCharset: 'utf8' });
    } catch (error) {
      reject(error);
      return;
    }
    parser.on('field', (name, value) => {
      const field = MULTIPART_FIELDS[name.toLowerCase()];
      // A part in a charset the parser does not know arrives without a value: a bad request.
      if (field === undefined || typeof value !== 'string') unknownField = true;
      else if (!values.has(field)) values.set(field, value);
    });
    // Files are not part of the form values Mattermost decodes; drain and ignore them.
    parser.on('file', (_name, stream) => stream.resume());
    parser.on('error', reject);
    parser.on('close', () => resolve());
    parser.end(body);
  }).catch((error: unknown) => {
    if (error instanceof AppError) throw error;
    throw multipartError();
  });
  if (unknownField) throw multipartError();
  for (const [field, raw] of values) values.set(field, decodeUtf8(Buffer.from(raw, 'latin1')));
  return decodeRequestObject(Object.fromEntries(values));
}

/**
 * Decodes the body of `POST /hooks/{id}` by media type, as Mattermost's web layer does:
 * `payload=` form fields, multipart form fields, or JSON for anything else.
 */
export async function decodeIncomingWebhookBody(
  body: Buffer,
  contentType: string | undefined,
  query: URLSearchParams,
): Promise<IncomingWebhookRequest> {
  let mediaType: string;
  try {
    mediaType = parseMediaType(contentType);
  } catch (error) {
    if (error instanceof MediaTypeError) throw mediaTypeError();
    throw error;
  }
  if (mediaType === 'application/x-www-form-urlencoded') {
    // Go's FormValue: a body value wins over the query string's.
    const payload = new URLSearchParams(decodeUtf8(body)).get('payload') ?? query.get('payload') ?? '';
    return decodeIncomingWebhookJson(payload);
  }
  if (mediaType === 'multipart/form-data') return decodeMultipart(body, contentType ?? '');
  return decodeIncomingWebhookJson(decodeUtf8(body));
}
