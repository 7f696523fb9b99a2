import type { OutgoingWebhook, Post } from '../model.js';

export const TRIGGER_EXACT_MATCH = 0;
export const TRIGGER_STARTS_WITH = 1;

export interface OutgoingMatch {
  hook: OutgoingWebhook;
  triggerWord: string;
}

/** Go's `strings.Fields(message)[0]`: the first run of non-whitespace, or "" for none. */
export function firstWord(message: string): string {
  return message.trim().split(/\s+/u)[0] ?? '';
}

/**
 * The outgoing webhooks a post triggers: hooks of the post's channel or of no
 * channel; a channel hook without trigger words matches every post; otherwise the first word must
 * equal a trigger word (`trigger_when` 0) or start with one (1, first match in list order). Unlike
 * Mattermost, each match keeps its own trigger word (Mattermost gives every payload the last one).
 */
export function matchOutgoingWebhooks(post: Pick<Post, 'channel_id' | 'message'>, hooks: OutgoingWebhook[]): OutgoingMatch[] {
  const word = firstWord(post.message);
  const matches: OutgoingMatch[] = [];
  for (const hook of hooks) {
    if (hook.delete_at !== 0) continue;
    if (hook.channel_id !== '' && hook.channel_id !== post.channel_id) continue;
    if (hook.channel_id === post.channel_id && hook.trigger_words.length === 0) {
      matches.push({ hook, triggerWord: '' });
      continue;
    }
    if (word === '') continue;
    const trigger =
      hook.trigger_when === TRIGGER_STARTS_WITH
        ? hook.trigger_words.find((candidate) => candidate !== '' && word.startsWith(candidate))
        : hook.trigger_words.find((candidate) => candidate === word);
    if (trigger !== undefined) matches.push({ hook, triggerWord: trigger });
  }
  return matches;
}
