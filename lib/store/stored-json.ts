import { gunzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { checkJsonTextDepth, MAX_READABLE_PROPS_DEPTH } from '../limits.js';

/**
 * Reading a post's JSON attributes (props, metadata) so that no stored item can break a read:
 * posts written before the write caps may hold props nested thousands of levels deep, and an item
 * written by hand or by an older version may hold JSON that does not parse or gzip that does not
 * inflate. Such a value is read as `{}` and logged with the post's id, so the channel stays
 * readable and an operator can find and mend the item.
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

/** An item's JSON object attribute (`props_json` / `props_gz`, `metadata_json`); `{}` when unreadable. */
export function readStoredObject(item: Record<string, unknown>, name: 'props' | 'metadata'): Record<string, unknown> {
  try {
    const compressed = item[`${name}_gz`];
    if (compressed instanceof Uint8Array) {
      return parseObject(gunzipSync(compressed, { maxOutputLength: MAX_INFLATED_PROPS_BYTES }).toString('utf8'));
    }
    const text = item[`${name}_json`];
    return text === undefined || text === null ? {} : parseObject(String(text));
  } catch (error) {
    logger.warn('unreadable stored post attribute read as {}', {
      post_id: String(item.id ?? ''),
      attribute: name,
      reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return {};
  }
}
