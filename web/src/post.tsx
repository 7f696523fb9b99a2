import { useState } from 'preact/hooks';
import type { Post as PostType } from '@mattermost/types/posts';
import type { Reaction } from '@mattermost/types/reactions';
import type { UserProfile } from '@mattermost/types/users';
import type { MessageAttachment } from '@mattermost/types/message_attachments';
import { Attachment, type ActionRunner, type MenuSources } from './attachment.js';
import { emojiFor, QUICK_REACTIONS } from './emoji.js';
import { renderMarkdown, safeUrl } from './markdown.js';
import { ErrorAlert } from './error-alert.js';

export interface PostContext {
  me: UserProfile;
  profile(userId: string): UserProfile | undefined;
  reactions(post: PostType): Reaction[];
  toggleReaction(post: PostType, emoji: string): Promise<void>;
  runAction(post: PostType, actionId: string, selectedOption?: string): Promise<void>;
  openThread(rootId: string): void;
  menus: MenuSources;
}

const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** Who a post shows as: an integration's override name and icon (with the BOT tag), else its user. */
export function postAuthor(post: PostType, profile: UserProfile | undefined) {
  const fromWebhook = post.props?.from_webhook === 'true';
  const override = typeof post.props?.override_username === 'string' ? post.props.override_username : '';
  const name = fromWebhook && override ? override : profile?.username ?? '…';
  const icon = fromWebhook ? safeUrl(post.props?.override_icon_url) : undefined;
  return { name, icon, bot: fromWebhook };
}

export function Post({ post, context, inThread = false }: { post: PostType; context: PostContext; inThread?: boolean }) {
  const author = postAuthor(post, context.profile(post.user_id));
  const ephemeral = post.type === 'system_ephemeral';
  const attachments = (Array.isArray(post.props?.attachments) ? post.props.attachments : []) as MessageAttachment[];
  const runAction: ActionRunner = (actionId, selected) => context.runAction(post, actionId, selected);
  const headingId = `post-${post.id}-author`;
  return (
    <article class={`post${ephemeral ? ' post--ephemeral' : ''}${post.root_id ? ' post--reply' : ''}`} aria-labelledby={headingId} data-post-id={post.id}>
      <div class="post__avatar" aria-hidden="true">
        {author.icon ? <img src={author.icon} alt="" width={32} height={32} /> : <span>{author.name.slice(0, 1).toUpperCase()}</span>}
      </div>
      <div class="post__main">
        <header class="post__header">
          <h3 class="post__author" id={headingId}>
            {author.name}
          </h3>
          {author.bot ? <span class="tag">BOT</span> : null}
          <time class="post__time" dateTime={new Date(post.create_at).toISOString()} title={new Date(post.create_at).toLocaleString()}>
            {time(post.create_at)}
          </time>
          {ephemeral ? <span class="post__visibility">(Only visible to you)</span> : null}
        </header>
        {post.root_id && !inThread ? (
          <button type="button" class="link post__in-thread" onClick={() => context.openThread(post.root_id)}>
            Replied in a thread
          </button>
        ) : null}
        {post.message ? (
          <div class="post__message markdown">
            <div dangerouslySetInnerHTML={{ __html: renderMarkdown(post.message) }} />
          </div>
        ) : null}
        {post.edit_at > 0 ? (
          <span class="post__edited" title={`Edited ${new Date(post.edit_at).toLocaleString()}`}>
            Edited
          </span>
        ) : null}
        {attachments.filter(Boolean).map((attachment, index) => (
          <Attachment key={index} attachment={attachment} runAction={runAction} menus={context.menus} />
        ))}
        <PostFooter post={post} context={context} inThread={inThread} ephemeral={ephemeral} />
      </div>
    </article>
  );
}

function PostFooter({ post, context, inThread, ephemeral }: { post: PostType; context: PostContext; inThread: boolean; ephemeral: boolean }) {
  const [picking, setPicking] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const reactions = context.reactions(post);
  const groups = new Map<string, Reaction[]>();
  for (const reaction of reactions) groups.set(reaction.emoji_name, [...(groups.get(reaction.emoji_name) ?? []), reaction]);
  const toggle = async (emoji: string) => {
    setError(undefined);
    setPicking(false);
    try {
      await context.toggleReaction(post, emoji);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  if (ephemeral) return null;
  const replies = post.reply_count ?? 0;
  return (
    <div class="post__footer">
      {groups.size > 0 ? (
        <ul class="reactions" aria-label="Reactions">
          {[...groups].map(([emoji, list]) => {
            const mine = list.some((reaction) => reaction.user_id === context.me.id);
            return (
              <li key={emoji}>
                <button type="button" class={`reaction${mine ? ' reaction--mine' : ''}`} aria-pressed={mine} aria-label={`${emoji}: ${list.length}${mine ? ', including you' : ''}`} onClick={() => toggle(emoji)}>
                  <span aria-hidden="true">{emojiFor(emoji) ?? `:${emoji}:`}</span> {list.length}
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
      <div class="post__tools">
        <button type="button" class="link" aria-expanded={picking} aria-label="Add a reaction" onClick={() => setPicking(!picking)}>
          ☺+
        </button>
        {!post.root_id && !inThread ? (
          <button type="button" class="link" onClick={() => context.openThread(post.id)}>
            {replies > 0 ? `${replies} ${replies === 1 ? 'reply' : 'replies'}` : 'Reply'}
          </button>
        ) : null}
      </div>
      {picking ? (
        <div class="reaction-picker" role="group" aria-label="Pick a reaction">
          {QUICK_REACTIONS.map((emoji) => (
            <button key={emoji} type="button" class="reaction" aria-label={emoji} onClick={() => toggle(emoji)}>
              {emojiFor(emoji)}
            </button>
          ))}
        </div>
      ) : null}
      <ErrorAlert message={error} />
    </div>
  );
}
