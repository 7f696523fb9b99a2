import { useState } from 'preact/hooks';
import type { Channel } from '@mattermost/types/channels';
import type { MessageAttachment, MessageAttachmentField } from '@mattermost/types/message_attachments';
import type { PostAction } from '@mattermost/types/integration_actions';
import { renderInlineMarkdown, renderMarkdown, safeUrl } from './markdown.js';
import { ErrorAlert } from './error-alert.js';

/**
 * Mattermost's message attachment: a color bar, pretext above it, then author, title (a link when
 * it has one), text, fields (short ones two to a row), image, thumbnail, footer, and the actions.
 */
const NAMED_COLORS: Record<string, string> = { good: '#00c100', warning: '#dede01', danger: '#e40303' };

function barColor(color: unknown): string | undefined {
  if (typeof color !== 'string') return undefined;
  if (NAMED_COLORS[color]) return NAMED_COLORS[color];
  return /^#[0-9a-f]{3}(?:[0-9a-f]{3})?$/i.test(color) ? color : undefined;
}

export interface ActionRunner {
  (actionId: string, selectedOption?: string): Promise<void>;
}

export interface MenuSources {
  channels: Channel[];
  /** Resolves a username a person typed to a user id, for users menus. */
  userIdByName(username: string): Promise<string | undefined>;
  knownUsernames: string[];
}

const Markdown = ({ text, class: className }: { text: string; class: string }) => (
  // renderMarkdown's output is sanitized.
  <div class={`${className} markdown`} dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />
);

/** Short fields pair up; a long field, or a short one with no short partner, takes a whole row. */
function fieldRows(fields: MessageAttachmentField[]): MessageAttachmentField[][] {
  const rows: MessageAttachmentField[][] = [];
  let row: MessageAttachmentField[] = [];
  for (const field of fields) {
    if (!field) continue;
    if (!field.short) {
      if (row.length) rows.push(row);
      rows.push([field]);
      row = [];
      continue;
    }
    row.push(field);
    if (row.length === 2) {
      rows.push(row);
      row = [];
    }
  }
  if (row.length) rows.push(row);
  return rows;
}

export function Attachment({ attachment, runAction, menus }: { attachment: MessageAttachment; runAction: ActionRunner; menus: MenuSources }) {
  const color = barColor(attachment.color);
  const authorIcon = safeUrl(attachment.author_icon);
  const authorLink = safeUrl(attachment.author_link);
  const titleLink = safeUrl(attachment.title_link);
  const image = safeUrl(attachment.image_url);
  const thumb = safeUrl(attachment.thumb_url);
  const footerIcon = safeUrl(attachment.footer_icon);
  const fields = Array.isArray(attachment.fields) ? attachment.fields : [];
  const actions = Array.isArray(attachment.actions) ? attachment.actions : [];
  return (
    <div class="attachment">
      {attachment.pretext ? <Markdown class="attachment__pretext" text={attachment.pretext} /> : null}
      <div class="attachment__content" style={color ? { borderLeftColor: color } : undefined}>
        <div class="attachment__container">
          <div class="attachment__body">
            {attachment.author_name ? (
              <div class="attachment__author">
                {authorIcon ? <img class="attachment__author-icon" src={authorIcon} alt="" width={14} height={14} /> : null}
                {authorLink ? (
                  <a href={authorLink} target="_blank" rel="noopener noreferrer">
                    {attachment.author_name}
                  </a>
                ) : (
                  <span>{attachment.author_name}</span>
                )}
              </div>
            ) : null}
            {attachment.title ? (
              <h4 class="attachment__title">
                {titleLink ? (
                  <a href={titleLink} target="_blank" rel="noopener noreferrer">
                    {attachment.title}
                  </a>
                ) : (
                  attachment.title
                )}
              </h4>
            ) : null}
            {attachment.text ? <Markdown class="attachment__text" text={attachment.text} /> : null}
            {fields.length > 0 ? (
              <table class="attachment__fields">
                <tbody>
                  {fieldRows(fields).map((row, index) => (
                    <tr key={index}>
                      {row.map((field, column) => (
                        <td key={column} colSpan={row.length === 1 && !field.short ? 2 : 1} class={field.short ? 'attachment__field attachment__field--short' : 'attachment__field'}>
                          {field.title ? <div class="attachment__field-title">{field.title}</div> : null}
                          <Markdown class="attachment__field-value" text={String(field.value ?? '')} />
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            {image ? <img class="attachment__image" src={image} alt={attachment.fallback || attachment.title || 'Attached image'} loading="lazy" /> : null}
            {actions.length > 0 ? <Actions actions={actions} runAction={runAction} menus={menus} /> : null}
            {attachment.footer ? (
              <div class="attachment__footer">
                {footerIcon ? <img class="attachment__footer-icon" src={footerIcon} alt="" width={16} height={16} /> : null}
                <span dangerouslySetInnerHTML={{ __html: renderInlineMarkdown(attachment.footer) }} />
              </div>
            ) : null}
          </div>
          {thumb ? <img class="attachment__thumb" src={thumb} alt="" width={75} height={75} loading="lazy" /> : null}
        </div>
      </div>
    </div>
  );
}

/** Mattermost's button styles; a `#rrggbb` style colours the button itself. */
const BUTTON_STYLES = new Set(['default', 'primary', 'success', 'good', 'warning', 'danger']);

type ActionWithUrl = PostAction & { url?: string; text?: string };

function Actions({ actions, runAction, menus }: { actions: ActionWithUrl[]; runAction: ActionRunner; menus: MenuSources }) {
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const run = async (actionId: string, selected?: string) => {
    setBusy(actionId);
    setError(undefined);
    try {
      await runAction(actionId, selected);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <div class="attachment__actions">
      {actions.map((action) => {
        if (!action) return null;
        const label = action.name || action.text || '';
        if (action.type === 'select') return <Menu key={action.id} action={action} busy={busy === action.id} run={run} menus={menus} />;
        const link = safeUrl(action.url);
        const style = action.style ?? 'default';
        const custom = /^#[0-9a-f]{6}$/i.test(style) ? { backgroundColor: style, borderColor: style, color: '#fff' } : undefined;
        const className = `btn btn--${BUTTON_STYLES.has(style) ? style : 'default'}`;
        if (link) {
          // Slack's link button: it opens its URL and calls no integration (clients never see an
          // integration, so a `url` of the action's own is what marks one).
          return (
            <a key={label + link} class={className} style={custom} href={link} target="_blank" rel="noopener noreferrer">
              {label}
              <span class="visually-hidden"> (opens in a new tab)</span>
            </a>
          );
        }
        // A link button whose URL is not http(s) (javascript:...) is drawn, and does nothing.
        if (!action.id || (typeof action.url === 'string' && action.url !== '')) {
          return (
            <button key={label} type="button" class={className} disabled>
              {label}
            </button>
          );
        }
        return (
          <button key={action.id} type="button" class={className} style={custom} disabled={action.disabled || busy !== undefined} aria-busy={busy === action.id} onClick={() => run(action.id!)}>
            {label}
          </button>
        );
      })}
      {busy ? (
        <span class="visually-hidden" role="status">
          Sending…
        </span>
      ) : null}
      <ErrorAlert message={error} />
    </div>
  );
}

function Menu({ action, busy, run, menus }: { action: ActionWithUrl; busy: boolean; run: (id: string, selected?: string) => Promise<void>; menus: MenuSources }) {
  const id = `menu-${action.id}`;
  const label = action.name || 'Choose';
  if (!action.id) return null;
  if (action.data_source === 'users') return <UsersMenu action={action} busy={busy} run={run} menus={menus} />;
  const options =
    action.data_source === 'channels'
      ? menus.channels.filter((channel) => channel.type === 'O' || channel.type === 'P').map((channel) => ({ text: channel.display_name || channel.name, value: channel.id }))
      : (action.options ?? []).filter(Boolean);
  return (
    <span class="menu">
      <label for={id} class="visually-hidden">
        {label}
      </label>
      <select
        id={id}
        class="menu__select"
        disabled={action.disabled || busy}
        aria-busy={busy}
        onChange={(event) => {
          const value = (event.target as HTMLSelectElement).value;
          if (value) void run(action.id!, value);
        }}
      >
        <option value="">{label}</option>
        {options.map((option) => (
          <option key={option.value} value={option.value} selected={option.value === action.default_option}>
            {option.text}
          </option>
        ))}
      </select>
    </span>
  );
}

/** Hookline has no user search route yet: a person types a username (known ones are suggested). */
function UsersMenu({ action, busy, run, menus }: { action: ActionWithUrl; busy: boolean; run: (id: string, selected?: string) => Promise<void>; menus: MenuSources }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const id = `menu-${action.id}`;
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const userId = await menus.userIdByName(name.trim().replace(/^@/, ''));
    if (!userId) {
      setError(`No user named ${name.trim()}.`);
      return;
    }
    await run(action.id!, userId);
  };
  return (
    <form class="menu menu--users" onSubmit={submit}>
      <label for={id}>{action.name || 'User'}</label>
      <input id={id} list={`${id}-known`} value={name} placeholder="username" autocomplete="off" disabled={action.disabled || busy} onInput={(event) => setName((event.target as HTMLInputElement).value)} />
      <datalist id={`${id}-known`}>
        {menus.knownUsernames.map((username) => (
          <option key={username} value={username} />
        ))}
      </datalist>
      <button type="submit" class="btn btn--default" disabled={!name.trim() || busy}>
        Choose
      </button>
      <ErrorAlert message={error} inline />
    </form>
  );
}
