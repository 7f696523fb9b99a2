import { errors } from '../errors.js';
import { checkJsonTextDepth } from '../limits.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text; bytes that are not valid UTF-8 are refused rather than silently replaced. */
export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw errors.invalidUtf8();
  }
}

export class MediaTypeError extends Error {}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The media type of a Content-Type value, lower-cased, as Go's `mime.ParseMediaType` reads it:
 * `type/subtype` (or a bare token) before the first `;`. A malformed media type is an error; a
 * malformed parameter is not (Mattermost ignores `ErrInvalidMediaParameter`). Empty means none given.
 */
export function parseMediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const base = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (base === '' && contentType.trim() === '') return '';
  const [type, subtype, ...rest] = base.split('/');
  if (!type || !TOKEN.test(type) || rest.length > 0) throw new MediaTypeError(`invalid media type "${base}"`);
  if (subtype !== undefined && !TOKEN.test(subtype)) throw new MediaTypeError(`invalid media type "${base}"`);
  return base;
}

/** The value of a Content-Type parameter (for the multipart boundary), without quotes. */
export function mediaTypeParameter(contentType: string, name: string): string | undefined {
  for (const part of contentType.split(';').slice(1)) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim().toLowerCase() !== name) continue;
    const value = part.slice(separator + 1).trim();
    return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
  }
  return undefined;
}

/**
 * The text of the first JSON value in `input`, ignoring whatever follows, as Go's
 * `json.Decoder.Decode` does. Returns undefined when no complete value is present.
 */
export function firstJsonValue(input: string): string | undefined {
  let start = 0;
  while (start < input.length && ' \t\r\n'.includes(input[start]!)) start++;
  if (start >= input.length) return undefined;
  const first = input[start]!;
  if (first === '{' || first === '[' || first === '"') {
    let depth = 0;
    let inString = false;
    for (let i = start; i < input.length; i++) {
      const char = input[i]!;
      if (inString) {
        if (char === '\\') i++;
        else if (char === '"') {
          inString = false;
          if (depth === 0) return input.slice(start, i + 1);
        }
      } else if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth++;
      else if (char === '}' || char === ']') {
        depth--;
        if (depth === 0) return input.slice(start, i + 1);
      }
    }
    return undefined;
  }
  let end = start;
  while (end < input.length && !' \t\r\n{}[],"'.includes(input[end]!)) end++;
  return input.slice(start, end);
}

/** ES2024's String.prototype.toWellFormed (Node 20 and later), beyond the project's TypeScript lib. */
type WellFormable = string & { toWellFormed(): string };

// A `\uD800`-`\uDFFF` escape: the only way JSON text can carry a lone surrogate.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * JSON.parse with the decoding rules every decoder of outside JSON shares: nesting bounded by
 * MAX_JSON_DEPTH (checked on the text first; `JsonTooDeepError`, a SyntaxError), and escaped lone
 * surrogates read as U+FFFD, as Go's encoding/json reads them; left as they are, they would make
 * `encodeURIComponent` (form bodies to integrations) throw later.
 */
export function parseJsonText(text: string): unknown {
  checkJsonTextDepth(text);
  if (!SURROGATE_ESCAPE.test(text)) return JSON.parse(text) as unknown;
  return JSON.parse(text, (_key, value: unknown) => (typeof value === 'string' ? (value as WellFormable).toWellFormed() : value)) as unknown;
}

/**
 * Parses a JSON request body of the REST routes (UTF-8 checked, nesting bounded by MAX_JSON_DEPTH),
 * refusing it with Mattermost's error naming `name`. Stricter than Go's decoder: the whole body
 * must be one value and the route's schema matches keys exactly. The bodies Mattermost reads into
 * a struct from integrations go through `lib/http/go-json.ts` instead.
 */
export function parseJsonBody(body: Buffer, name: string): unknown {
  const text = decodeUtf8(body);
  try {
    return parseJsonText(text);
  } catch {
    throw errors.invalidBodyParam(name);
  }
}
