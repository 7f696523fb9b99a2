import { stripActionIntegrations } from './attachments.js';
import type { Config } from '../config.js';
import emojiImages from '../emoji-images.json' with { type: 'json' };
import type { Post } from '../model.js';

// Only the read paths and live events (lib/live/events.ts) import this module, so the emoji table
// stays out of the other write functions.
/**
 * What a client sees of a post; every read goes through here, so rules about what clients may see
 * apply everywhere. With icon overrides on, an `override_icon_emoji` is rendered into
 * `override_icon_url` as Mattermost's `PreparePostForClient` does (`:basketball:` →
 * `/static/emoji/1f3c0.png`); unknown names are left alone.
 */
export function postForClient(stored: Post, config: Pick<Config, 'enablePostIconOverride'>): Post {
  const { ephemeral_for: _audience, origin: _origin, content_version: _version, ...rest } = stored;
  // Clients never see an action's integration URL or context.
  const post = { ...rest, props: stripActionIntegrations(rest.props) };
  const emoji = post.props.override_icon_emoji;
  if (!config.enablePostIconOverride || typeof emoji !== 'string') return post;
  const image = (emojiImages as Record<string, string>)[emoji.replace(/^:+|:+$/g, '').toLowerCase()];
  if (image === undefined) return post;
  return { ...post, props: { ...post.props, override_icon_url: `/static/emoji/${image}.png` } };
}

/**
 * The posts as clients see them, in the order given, as long as they fit in `budget.bytesLeft`
 * bytes of JSON (which it lowers): a Lambda answers at most 6 MB, and a read of large posts (up to
 * 380 KB each) would pass that at 20 of them. Stops at the first post that does not fit, so what
 * is kept is a prefix of `posts`, and the caller knows where the next page starts.
 */
export function postsForClientWithin(
  posts: Post[],
  config: Pick<Config, 'enablePostIconOverride'>,
  budget: { bytesLeft: number },
): { shown: Map<string, Post>; kept: number } {
  const shown = new Map<string, Post>();
  let kept = 0;
  for (const post of posts) {
    const forClient = postForClient(post, config);
    const bytes = Buffer.byteLength(JSON.stringify(forClient), 'utf8');
    if (bytes > budget.bytesLeft) break;
    budget.bytesLeft -= bytes;
    shown.set(post.id, forClient);
    kept++;
  }
  return { shown, kept };
}
