/**
 * The emoji names integrations and people use most, as characters. Mattermost knows every emoji;
 * a full table would weigh more than the rest of the app, so other names show as `:name:`.
 */
export const EMOJI: Record<string, string> = {
  '+1': '👍', thumbsup: '👍', '-1': '👎', thumbsdown: '👎', smile: '😄', smiley: '😃', grinning: '😀', laughing: '😆',
  joy: '😂', wink: '😉', heart: '❤️', tada: '🎉', rocket: '🚀', fire: '🔥', eyes: '👀', white_check_mark: '✅',
  heavy_check_mark: '✔️', x: '❌', warning: '⚠️', rotating_light: '🚨', bug: '🐛', wave: '👋', clap: '👏', pray: '🙏',
  thinking_face: '🤔', ok_hand: '👌', star: '⭐', sparkles: '✨', boom: '💥', zap: '⚡', memo: '📝', bell: '🔔',
  construction: '🚧', hourglass: '⌛', red_circle: '🔴', large_green_circle: '🟢', green_circle: '🟢', yellow_circle: '🟡',
  information_source: 'ℹ️', question: '❓', exclamation: '❗', package: '📦', lock: '🔒', sob: '😭', slightly_smiling_face: '🙂',
};

/** The reactions offered by the reaction picker. */
export const QUICK_REACTIONS = ['+1', 'tada', 'eyes', 'white_check_mark', 'heart', 'rocket'];

export function emojiFor(name: string): string | undefined {
  return EMOJI[name];
}

/** `:name:` replaced by its character where known; the rest left as written. */
export function emojify(text: string): string {
  return text.replace(/:([a-z0-9_+-]{1,64}):/g, (whole, name: string) => EMOJI[name] ?? whole);
}
