import { stripActionIntegrations } from '../actions/model.js';
import type { Config } from '../config.js';
import emojiImages from '../emoji-images.json' with { type: 'json' };
import type { Post } from '../model.js';

// Only the read paths import this module, so the emoji table stays out of the write functions.
/**
 * What a client sees of a post; every read goes through here, so rules about what clients may see
 * apply everywhere. With icon overrides on, an `override_icon_emoji` is rendered into
 * `override_icon_url` as Mattermost's `PreparePostForClient` does (`:basketball:` →
 * `/static/emoji/1f3c0.png`); unknown names are left alone.
 */
export function postForClient(stored: Post, config: Pick<Config, 'enablePostIconOverride'>): Post {
  const { ephemeral_for: _audience, origin: _origin, ...rest } = stored;
  // Clients never see an action's integration URL or context.
  const post = { ...rest, props: stripActionIntegrations(rest.props) };
  const emoji = post.props.override_icon_emoji;
  if (!config.enablePostIconOverride || typeof emoji !== 'string') return post;
  const image = (emojiImages as Record<string, string>)[emoji.replace(/^:+|:+$/g, '').toLowerCase()];
  if (image === undefined) return post;
  return { ...post, props: { ...post.props, override_icon_url: `/static/emoji/${image}.png` } };
}
