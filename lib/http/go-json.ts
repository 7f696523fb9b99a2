/**
 * The one decoder of JSON objects that come from outside and that Mattermost decodes into a Go
 * struct (incoming webhook bodies, command answers, outgoing-webhook replies, action answers), with
 * the semantics of Go's `encoding/json` that integrations are written against:
 * - keys match fields case-insensitively, the last duplicate winning; unknown keys are ignored;
 * - a value of the wrong type for its field is refused (the struct's schema);
 * - nesting is bounded and escaped lone surrogates read as U+FFFD (`parseJsonText`).
 *
 * Where Mattermost's call sites genuinely differ, an option says so (`GoJsonOptions`); every error
 * is a `GoJsonError`, which each caller turns into its own Mattermost error.
 */
import * as z from '../zod.js';
import { firstJsonValue, parseJsonText } from './body.js';

export class GoJsonError extends SyntaxError {
  constructor(message: string) {
    super(message);
    this.name = 'GoJsonError';
  }
}

export interface GoJsonOptions {
  /**
   * Bytes after the first JSON value. `ignore`, as `json.NewDecoder(body).Decode` reads one value
   * and stops (incoming webhooks, outgoing-webhook replies, action answers); `refuse`, as
   * `json.Unmarshal` wants the whole input to be one value (command answers).
   */
  trailing: 'ignore' | 'refuse';
  /**
   * Input that is only whitespace. `absent`: the integration had nothing to say, and the decoder
   * returns undefined (outgoing-webhook replies, action answers); `refuse`: Go's EOF error
   * (incoming webhooks, command answers sent as `application/json`).
   */
  empty: 'absent' | 'refuse';
  /**
   * A JSON `null`. `zero`: Go leaves the struct it decodes into at its zero value, so the result is
   * the schema's reading of `{}` (incoming webhooks, command answers); `absent`: Mattermost decodes
   * into a pointer, which stays nil, and the decoder returns undefined (outgoing-webhook replies,
   * action answers).
   */
  null: 'zero' | 'absent';
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Go's encoding/json matches object keys to struct fields case-insensitively, the last duplicate
 * winning, and ignores unknown keys. This returns the object with known keys in their canonical
 * spelling and everything else dropped.
 */
export function canonicalizeKeys(value: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const byLowerCase = new Map(fields.map((field) => [field.toLowerCase(), field]));
  const result: Record<string, unknown> = {};
  for (const [key, fieldValue] of Object.entries(value)) {
    const field = byLowerCase.get(key.toLowerCase());
    if (field !== undefined) result[field] = fieldValue;
  }
  return result;
}

/** A Go string field: `null` leaves the zero value. */
export const goString = z.pipe(
  z.nullish(z.string()),
  z.transform((value: string | null | undefined) => value ?? ''),
);

/** A Go bool field: `null` leaves the zero value; anything but a boolean is a type error. */
export const goBool = z.pipe(
  z.nullish(z.boolean()),
  z.transform((value: boolean | null | undefined) => value ?? false),
);

/** Go's `StringInterface` props: an object or null; null is no props. */
export const goProps = z.pipe(
  z.nullish(z.record(z.string(), z.unknown())),
  z.transform((value: Record<string, unknown> | null | undefined) => ({ ...(value ?? {}) })),
);

/**
 * The first JSON value of `text`, parsed; undefined for empty input when `options.empty` is
 * `absent`. The value may be of any type: `decodeGoObject` checks that it is an object.
 */
export function parseGoJson(text: string, options: Pick<GoJsonOptions, 'trailing' | 'empty'>): unknown {
  if (text.trim() === '') {
    if (options.empty === 'absent') return undefined;
    throw new GoJsonError('unexpected end of JSON input');
  }
  const first = firstJsonValue(text);
  if (first === undefined) throw new GoJsonError('unexpected end of JSON input');
  if (options.trailing === 'refuse' && text.slice(text.indexOf(first) + first.length).trim() !== '') {
    throw new GoJsonError('invalid character after top-level value');
  }
  try {
    return parseJsonText(first);
  } catch (error) {
    throw new GoJsonError((error as Error).message);
  }
}

/**
 * A parsed JSON value read into the struct that `keys` and `schema` describe; undefined for
 * `null` when `options.null` is `absent`. Not an object, or a field of the wrong type: GoJsonError.
 */
export function decodeGoObject<S extends z.ZodMiniType>(
  value: unknown,
  keys: readonly string[],
  schema: S,
  options: Pick<GoJsonOptions, 'null'>,
): z.output<S> | undefined {
  if (value === null) {
    if (options.null === 'absent') return undefined;
    value = {};
  }
  if (!isPlainObject(value)) throw new GoJsonError('cannot unmarshal a non-object into a struct');
  const parsed = schema.safeParse(canonicalizeKeys(value, keys));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GoJsonError(`${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`.replace(/^: /, ''));
  }
  return parsed.data;
}

/** `parseGoJson` then `decodeGoObject`: the text of one Go struct. */
export function decodeGoJsonObject<S extends z.ZodMiniType>(
  text: string,
  keys: readonly string[],
  schema: S,
  options: GoJsonOptions,
): z.output<S> | undefined {
  const value = parseGoJson(text, options);
  if (value === undefined) return undefined;
  return decodeGoObject(value, keys, schema, options);
}
