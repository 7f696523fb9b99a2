/**
 * The caps that bound the work of one request (docs/limits.md lists them with Mattermost's
 * equivalents). Each is checked before the work it bounds, so an oversized request costs a scan of
 * its input and nothing more; beyond a cap the request answers 400 (413 for the body size).
 */

/**
 * Nesting of any JSON a request or an integration's answer carries. Go's encoding/json allows
 * 10 000 levels; here recursive code (structuredClone, JSON.stringify, Go's `%v` rendering) would
 * run out of stack long before that, so the cap is far lower. The deepest legitimate shape, a
 * command answer's extra response with an action's integration context, needs about ten levels.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Reads repair stored props nested deeper than this (posts written before the write caps). Above
 * the write cap, so nothing written since is touched; far below where reading code breaks.
 */
export const MAX_READABLE_PROPS_DEPTH = 256;

/** Slack's documented maximum of attachments per message; Mattermost has none. */
export const MAX_ATTACHMENTS = 100;
export const MAX_FIELDS_PER_ATTACHMENT = 100;
export const MAX_ACTIONS_PER_ATTACHMENT = 25;
export const MAX_OPTIONS_PER_ACTION = 250;
/** A command answer's `extra_responses`, each one a post: Mattermost has no cap. */
export const MAX_EXTRA_RESPONSES = 20;
/** Distinct `@name` and `~channel` mentions in a command's text (each is looked up). */
export const MAX_COMMAND_MENTIONS = 100;
/** Distinct `<@user_id>` mentions in one text of a post (each is looked up). */
export const MAX_USER_ID_MENTIONS = 100;

/** Mattermost's paging: `per_page` at most 200; Hookline also bounds how deep a page may start. */
export const MAX_PER_PAGE = 200;
/** `page * per_page` at most this, so a read costs at most this many posts, whatever `page` says. */
export const MAX_PAGE_OFFSET_POSTS = 10_000;

/** Mattermost's username and channel-name limits (64) and its command trigger limit (128). */
export const MAX_NAME_LENGTH = 64;
export const MAX_TRIGGER_LENGTH = 128;

/** Nesting deeper than allowed; a `SyntaxError` so that every JSON decoder refuses it as malformed input. */
export class JsonTooDeepError extends SyntaxError {
  constructor(maxDepth: number) {
    super(`JSON nested deeper than ${maxDepth} levels`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * Throws `JsonTooDeepError` when the JSON text nests objects and arrays deeper than `maxDepth`.
 * One linear pass over the text, run before JSON.parse and before any recursive code sees the value.
 */
export function checkJsonTextDepth(text: string, maxDepth = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (inString) {
      if (unit === 0x5c /* \ */) i++;
      else if (unit === 0x22 /* " */) inString = false;
    } else if (unit === 0x22) inString = true;
    else if (unit === 0x7b /* { */ || unit === 0x5b /* [ */) {
      if (++depth > maxDepth) throw new JsonTooDeepError(maxDepth);
    } else if (unit === 0x7d /* } */ || unit === 0x5d /* ] */) depth--;
  }
}

/**
 * Whether a decoded value nests objects and arrays deeper than `maxDepth` (the value itself, if an
 * object or array, is level 1). Iterative, so it cannot overflow the stack on what it checks.
 */
export function valueDepthExceeds(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * The posts a read returns, in bytes of JSON: a Lambda's answer is at most 6 MB, and a channel of
 * large posts (up to 380 KB each) would pass it at 20 of them; what does not fit is the next page.
 */
export const MAX_RESPONSE_POST_BYTES = 5 * 1024 * 1024;

/** Ids in one `POST /api/v4/users/ids`, usernames in one `POST /api/v4/users/usernames`. */
export const MAX_USERS_PER_LOOKUP = 200;
/** Teams listed by `GET /api/v4/users/{user_id}/teams`. */
export const MAX_TEAMS_PER_USER = 1000;
/** Channel memberships read by `GET /api/v4/users/{user_id}/teams/{team_id}/channels`. */
export const MAX_CHANNELS_PER_USER = 2000;
/** Replies read by `GET /api/v4/posts/{post_id}/thread`. */
export const MAX_THREAD_REPLIES = 1000;
/** Distinct emojis on one post (Mattermost's `UniqueEmojiReactionLimitPerPost` default). */
export const MAX_UNIQUE_EMOJIS_PER_POST = 50;
/** Reactions read for one post (its list, and the distinct-emoji check). */
export const MAX_REACTIONS_READ = 1000;
