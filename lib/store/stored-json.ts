import { gunzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { checkJsonTextDepth, MAX_READABLE_PROPS_DEPTH } from '../limits.js';

/**
 * Reading a post's JSON attributes (props, metadata) so that no stored item can break a read:
 * posts written before the write caps may hold props nested thousands of levels deep, and an item
 * written by hand or by an older version may hold JSON that does not parse or gzip that does not
 * inflate. Such a value is read as `{}` and logged with the post's id, so the channel stays
 * readable and an operator can find and mend the item. The post read is marked (`unreadableReason`)
 * so that what must not act on a partial post (the outgoing-webhook dispatch) can refuse it.
 */

/** Mattermost's 800 000 runes of props take at most 4 bytes each; more inflated gzip is not props. */
const MAX_INFLATED_PROPS_BYTES = 800_000 * 4;

// The store has no logger of its own; this one writes the same structured JSON lines.
const logger = new Logger({ serviceName: 'hookline' });

function parseObject(text: string): Record<string, unknown> {
  checkJsonTextDepth(text, MAX_READABLE_PROPS_DEPTH);
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('not a JSON object');
  return value as Record<string, unknown>;
}

const unreadable = new WeakMap<object, string>();

/** Why a post read from the store lost attributes it could not read; undefined for a whole post. */
export function unreadableReason(post: object): string | undefined {
  return unreadable.get(post);
}

/** Marks a post read with `readStoredObject` problems (their reasons, joined). */
export function markUnreadable<T extends object>(post: T, problems: string[]): T {
  if (problems.length > 0) unreadable.set(post, problems.join('; '));
  return post;
}

/**
 * An item's JSON object attribute (`props_json` / `props_gz`, `metadata_json`); `{}` when
 * unreadable, with the reason appended to `problems`.
 */
export function readStoredObject(item: Record<string, unknown>, name: 'props' | 'metadata', problems: string[] = []): Record<string, unknown> {
  try {
    const compressed = item[`${name}_gz`];
    if (compressed instanceof Uint8Array) {
      return parseObject(gunzipSync(compressed, { maxOutputLength: MAX_INFLATED_PROPS_BYTES }).toString('utf8'));
    }
    const text = item[`${name}_json`];
    return text === undefined || text === null ? {} : parseObject(String(text));
  } catch (error) {
    const reason = `${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    problems.push(reason);
    logger.warn('unreadable stored post attribute read as {}', { post_id: String(item.id ?? ''), attribute: name, reason });
    return {};
  }
}
