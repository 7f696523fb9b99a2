import { useEffect, useState } from 'preact/hooks';
import type { Client4 } from '@mattermost/client';
import type { Channel } from '@mattermost/types/channels';
import type { Team } from '@mattermost/types/teams';
import type { Command, IncomingWebhook, OutgoingWebhook } from '@mattermost/types/integrations';
import { errorMessage, errorStatus } from './api.js';
import type { DeliveryAttempt } from '../../lib/webhooks/delivery-types.js';
import { ErrorAlert } from './error-alert.js';

/**
 * The integrations console: a team's incoming hooks, outgoing hooks and slash commands, through
 * Mattermost's management API (and Hookline's delivery-log routes). The API decides who may do
 * what; the console shows its refusals as they come.
 */

export type Kind = 'incoming' | 'outgoing' | 'commands';

type Item = IncomingWebhook | OutgoingWebhook | Command;

/** Reads a team's integrations of one kind. */
export function listIntegrations(client: Client4, kind: Kind, teamId: string): Promise<Item[]> {
  if (kind === 'incoming') return client.getIncomingWebhooks(teamId, 0, 200) as Promise<IncomingWebhook[]>;
  if (kind === 'outgoing') return client.getOutgoingWebhooks('', teamId, 0, 200);
  return client.getCustomTeamCommands(teamId);
}

/**
 * Whether the console is worth offering: some list answers. A member who gets 403 on every list
 * has nothing to manage.
 */
export async function mayManage(client: Client4, teamId: string): Promise<boolean> {
  const answers = await Promise.allSettled((['incoming', 'outgoing', 'commands'] as Kind[]).map((kind) => listIntegrations(client, kind, teamId)));
  return answers.some((answer) => answer.status === 'fulfilled');
}

/** Hookline's own routes, which Client4 has no method for. */
const fetchJson = <T,>(client: Client4, path: string, method: 'GET' | 'POST'): Promise<T> =>
  (client as unknown as { doFetch<R>(url: string, options: { method: string }): Promise<R> }).doFetch<T>(`${client.getBaseRoute()}${path}`, { method });

type FieldType = 'text' | 'url' | 'textarea' | 'lines' | 'checkbox' | 'select' | 'channel';
interface Field {
  name: string;
  label: string;
  type: FieldType;
  required?: boolean;
  help?: string;
  options?: Array<{ value: string; text: string }>;
  /** For `channel`: which channel types, and whether none may be chosen. */
  channelTypes?: string[];
  optionalChannel?: boolean;
}

const FIELDS: Record<Kind, Field[]> = {
  incoming: [
    { name: 'display_name', label: 'Title', type: 'text' },
    { name: 'description', label: 'Description', type: 'text' },
    { name: 'channel_id', label: 'Channel', type: 'channel', required: true, channelTypes: ['O', 'P'] },
    { name: 'channel_locked', label: 'Post only to this channel', type: 'checkbox' },
    { name: 'username', label: 'Username', type: 'text', help: 'Shown instead of yours, when overrides are allowed' },
    { name: 'icon_url', label: 'Profile picture URL', type: 'url' },
  ],
  outgoing: [
    { name: 'display_name', label: 'Title', type: 'text' },
    { name: 'description', label: 'Description', type: 'text' },
    {
      name: 'content_type',
      label: 'Content type',
      type: 'select',
      options: [
        { value: 'application/x-www-form-urlencoded', text: 'application/x-www-form-urlencoded' },
        { value: 'application/json', text: 'application/json' },
      ],
    },
    { name: 'channel_id', label: 'Channel', type: 'channel', channelTypes: ['O'], optionalChannel: true, help: 'A public channel, or any channel of the team when trigger words are given' },
    { name: 'trigger_words', label: 'Trigger words', type: 'lines', help: 'One per line' },
    {
      name: 'trigger_when',
      label: 'Trigger when',
      type: 'select',
      options: [
        { value: '0', text: 'First word matches a trigger word exactly' },
        { value: '1', text: 'First word starts with a trigger word' },
      ],
    },
    { name: 'callback_urls', label: 'Callback URLs', type: 'lines', required: true, help: 'One per line' },
  ],
  commands: [
    { name: 'display_name', label: 'Title', type: 'text' },
    { name: 'description', label: 'Description', type: 'text' },
    { name: 'trigger', label: 'Trigger word', type: 'text', required: true, help: 'Without the slash' },
    { name: 'url', label: 'Request URL', type: 'url', required: true },
    {
      name: 'method',
      label: 'Request method',
      type: 'select',
      options: [
        { value: 'P', text: 'POST' },
        { value: 'G', text: 'GET' },
      ],
    },
    { name: 'username', label: 'Response username', type: 'text' },
    { name: 'icon_url', label: 'Response icon URL', type: 'url' },
    { name: 'auto_complete', label: 'Autocomplete', type: 'checkbox' },
    { name: 'auto_complete_hint', label: 'Autocomplete hint', type: 'text' },
    { name: 'auto_complete_desc', label: 'Autocomplete description', type: 'text' },
  ],
};

const DEFAULTS: Record<Kind, Record<string, unknown>> = {
  incoming: { channel_locked: true },
  outgoing: { content_type: 'application/x-www-form-urlencoded', trigger_when: 0 },
  commands: { method: 'P' },
};

const KINDS: Array<{ kind: Kind; title: string; singular: string }> = [
  { kind: 'incoming', title: 'Incoming webhooks', singular: 'incoming webhook' },
  { kind: 'outgoing', title: 'Outgoing webhooks', singular: 'outgoing webhook' },
  { kind: 'commands', title: 'Slash commands', singular: 'slash command' },
];

const hookUrl = (id: string) => `${window.location.origin}/hooks/${id}`;

const nameOf = (kind: Kind, item: Item) => (item.display_name as string) || (kind === 'commands' ? `/${(item as Command).trigger}` : item.id);

export function IntegrationsConsole(props: { client: Client4; team: Team; channels: Channel[]; close(): void }) {
  const [kind, setKind] = useState<Kind>('incoming');
  return (
    <section class="console" aria-labelledby="console-title">
      <header class="console__header">
        <h2 id="console-title">Integrations of {props.team.display_name || props.team.name}</h2>
        <button type="button" class="btn btn--default" onClick={props.close}>
          Back to channels
        </button>
      </header>
      <div
        class="console__tabs"
        role="tablist"
        aria-label="Kinds of integration"
        onKeyDown={(event) => {
          // The ARIA tabs pattern: arrow keys move between the tabs.
          const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
          if (!step) return;
          event.preventDefault();
          const index = (KINDS.findIndex((entry) => entry.kind === kind) + step + KINDS.length) % KINDS.length;
          setKind(KINDS[index]!.kind);
          document.getElementById(`tab-${KINDS[index]!.kind}`)?.focus();
        }}
      >
        {KINDS.map((entry) => (
          <button
            key={entry.kind}
            type="button"
            role="tab"
            id={`tab-${entry.kind}`}
            aria-selected={kind === entry.kind}
            tabIndex={kind === entry.kind ? 0 : -1}
            aria-controls="console-panel"
            class={`console__tab${kind === entry.kind ? ' console__tab--active' : ''}`}
            onClick={() => setKind(entry.kind)}
          >
            {entry.title}
          </button>
        ))}
      </div>
      <div id="console-panel" role="tabpanel" aria-labelledby={`tab-${kind}`} class="console__panel">
        <KindPanel key={kind} {...props} kind={kind} />
      </div>
    </section>
  );
}

function KindPanel(props: { client: Client4; team: Team; channels: Channel[]; kind: Kind }) {
  const { client, kind } = props;
  const meta = KINDS.find((entry) => entry.kind === kind)!;
  const [items, setItems] = useState<Item[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [editing, setEditing] = useState<Item | 'new' | undefined>();
  const [created, setCreated] = useState<Item | undefined>();

  const load = () => {
    setError(undefined);
    listIntegrations(client, kind, props.team.id).then(
      (list) => setItems(list),
      (failure) => {
        setItems([]);
        setError(errorStatus(failure) === 403 ? `You may not manage ${meta.title.toLowerCase()} in this team: ${errorMessage(failure)}` : errorMessage(failure));
      },
    );
  };
  useEffect(load, [kind, props.team.id]);

  const saved = (item: Item, isNew: boolean) => {
    setEditing(undefined);
    setCreated(isNew ? item : undefined);
    setItems((current) => (isNew ? [...(current ?? []), item] : (current ?? []).map((known) => (known.id === item.id ? item : known))));
  };

  return (
    <div>
      <div class="console__toolbar">
        <h3>{meta.title}</h3>
        {!error || items?.length ? (
          <button type="button" class="btn btn--primary" onClick={() => (setEditing('new'), setCreated(undefined))} disabled={editing === 'new'}>
            Add {meta.singular}
          </button>
        ) : null}
      </div>
      <ErrorAlert message={error} />
      {created && kind === 'incoming' ? (
        <div class="console__created" role="status">
          <p>
            Created <strong>{nameOf(kind, created)}</strong>. Post to its URL:
          </p>
          <HookUrl id={created.id} place="created" />
        </div>
      ) : created ? (
        <div class="console__created" role="status">
          <p>
            Created <strong>{nameOf(kind, created)}</strong>.
          </p>
          {(created as { signing_secret?: string }).signing_secret ? (
            <p>
              Its signing secret, shown this once (requests to its callback URLs are signed with it):{' '}
              <code class="console__token">{(created as { signing_secret?: string }).signing_secret}</code>
            </p>
          ) : null}
        </div>
      ) : null}
      {editing === 'new' ? <IntegrationForm {...props} item={undefined} onSaved={(item) => saved(item, true)} onCancel={() => setEditing(undefined)} /> : null}
      {!items ? (
        <p class="loading" role="status">
          Loading {meta.title.toLowerCase()}…
        </p>
      ) : items.length === 0 && !error ? (
        <p class="empty">No {meta.title.toLowerCase()} yet.</p>
      ) : (
        <ul class="console__list" aria-label={meta.title}>
          {items.map((item) => (
            <li key={item.id} class="console__item">
              {editing !== 'new' && editing?.id === item.id ? (
                <IntegrationForm {...props} item={item} onSaved={(next) => saved(next, false)} onCancel={() => setEditing(undefined)} />
              ) : (
                <IntegrationCard
                  {...props}
                  item={item}
                  edit={() => (setEditing(item), setCreated(undefined))}
                  replaced={(next) => setItems((current) => (current ?? []).map((known) => (known.id === next.id ? next : known)))}
                  removed={() => setItems((current) => (current ?? []).filter((known) => known.id !== item.id))}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function HookUrl({ id, place }: { id: string; place: 'created' | 'card' }) {
  const [copied, setCopied] = useState<string | undefined>();
  const url = hookUrl(id);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('Copied');
    } catch {
      setCopied('Copying was refused: select the URL and copy it');
    }
  };
  return (
    <div class="console__url">
      <label class="visually-hidden" for={`url-${place}-${id}`}>
        Webhook URL
      </label>
      <input id={`url-${place}-${id}`} class="console__url-input" readOnly value={url} onFocus={(event) => (event.target as HTMLInputElement).select()} />
      <button type="button" class="btn btn--default" onClick={copy}>
        Copy URL
      </button>
      <span role="status" class="console__note">
        {copied ?? ''}
      </span>
    </div>
  );
}

function IntegrationCard(props: { client: Client4; kind: Kind; channels: Channel[]; item: Item; edit(): void; replaced(item: Item): void; removed(): void }) {
  const { client, kind, item } = props;
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [log, setLog] = useState(false);
  const name = nameOf(kind, item);
  const channel = props.channels.find((candidate) => candidate.id === (item as { channel_id?: string }).channel_id);
  const run = async (label: string, work: () => Promise<void>) => {
    setBusy(label);
    setError(undefined);
    try {
      await work();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(undefined);
    }
  };
  const regen = () =>
    run('token', async () => {
      if (kind === 'outgoing') props.replaced(await client.regenOutgoingHookToken(item.id));
      else props.replaced({ ...(item as Command), token: (await client.regenCommandToken(item.id)).token });
    });
  const [secret, setSecret] = useState<string | undefined>();
  const rotate = () =>
    run('secret', async () => {
      setSecret((await fetchJson<{ signing_secret: string }>(client, `/hooks/outgoing/${encodeURIComponent(item.id)}/rotate_signing_secret`, 'POST')).signing_secret);
    });
  const remove = () =>
    run('delete', async () => {
      if (kind === 'incoming') await client.removeIncomingWebhook(item.id);
      else if (kind === 'outgoing') await client.removeOutgoingWebhook(item.id);
      else await client.deleteCommand(item.id);
      props.removed();
    });
  const token = (item as { token?: string }).token;
  return (
    <article class="console__card" aria-label={name}>
      <h4>{name}</h4>
      {item.description ? <p class="console__description">{item.description}</p> : null}
      <dl class="console__facts">
        {kind === 'commands' ? (
          <>
            <dt>Trigger</dt>
            <dd>/{(item as Command).trigger}</dd>
            <dt>URL</dt>
            <dd class="console__break">{(item as Command).url}</dd>
          </>
        ) : null}
        {kind !== 'commands' ? (
          <>
            <dt>Channel</dt>
            <dd>{channel ? channel.display_name || channel.name : (item as { channel_id?: string }).channel_id ? 'a channel you cannot see' : 'any channel'}</dd>
          </>
        ) : null}
        {kind === 'outgoing' ? (
          <>
            <dt>Trigger words</dt>
            <dd>{(item as OutgoingWebhook).trigger_words.join(', ') || 'none'}</dd>
            <dt>Callback URLs</dt>
            <dd class="console__break">{(item as OutgoingWebhook).callback_urls.join(' ')}</dd>
          </>
        ) : null}
        {token ? (
          <>
            <dt>Token</dt>
            <dd>
              <code class="console__token">{token}</code>
            </dd>
          </>
        ) : null}
      </dl>
      {kind === 'incoming' ? <HookUrl id={item.id} place="card" /> : null}
      <div class="console__actions">
        <button type="button" class="btn btn--default" onClick={props.edit} aria-label={`Edit ${name}`}>
          Edit
        </button>
        {kind !== 'incoming' ? (
          <button type="button" class="btn btn--default" onClick={regen} disabled={busy === 'token'} aria-busy={busy === 'token'} aria-label={`Regenerate the token of ${name}`}>
            {busy === 'token' ? 'Regenerating…' : 'Regenerate token'}
          </button>
        ) : null}
        {kind === 'outgoing' ? (
          <button type="button" class="btn btn--default" onClick={rotate} disabled={busy === 'secret'} aria-busy={busy === 'secret'} aria-label={`Rotate the signing secret of ${name}`}>
            {busy === 'secret' ? 'Rotating…' : 'Rotate signing secret'}
          </button>
        ) : null}
        {kind === 'outgoing' ? (
          <button type="button" class="btn btn--default" aria-expanded={log} onClick={() => setLog(!log)} aria-label={`Delivery log of ${name}`}>
            {log ? 'Hide delivery log' : 'Delivery log'}
          </button>
        ) : null}
        {confirming ? (
          <span class="console__confirm" role="group" aria-label={`Delete ${name}?`}>
            <span>Delete {name}?</span>
            <button type="button" class="btn btn--danger" onClick={remove} disabled={busy === 'delete'} aria-busy={busy === 'delete'}>
              {busy === 'delete' ? 'Deleting…' : 'Yes, delete'}
            </button>
            <button type="button" class="btn btn--default" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </span>
        ) : (
          <button type="button" class="btn btn--danger" onClick={() => setConfirming(true)} aria-label={`Delete ${name}`}>
            Delete
          </button>
        )}
      </div>
      {secret ? (
        <p class="console__note" role="status">
          New signing secret, shown this once (the old one still signs for the rotation window): <code class="console__token">{secret}</code>
        </p>
      ) : null}
      <ErrorAlert message={error} />
      {log ? <DeliveryLog client={client} hookId={item.id} /> : null}
    </article>
  );
}

function IntegrationForm(props: { client: Client4; kind: Kind; team: Team; channels: Channel[]; item: Item | undefined; onSaved(item: Item): void; onCancel(): void }) {
  const { client, kind, item } = props;
  const fields = FIELDS[kind];
  // Lines fields are edited as text, one entry a line.
  const [values, setValues] = useState<Record<string, unknown>>(() => {
    const start: Record<string, unknown> = { ...DEFAULTS[kind], ...(item ?? {}) };
    for (const field of fields) if (field.type === 'lines') start[field.name] = ((start[field.name] as string[] | undefined) ?? []).join('\n');
    return start;
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const prefix = `${kind}-${item?.id ?? 'new'}`;
  const set = (name: string, value: unknown) => setValues((current) => ({ ...current, [name]: value }));
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const body = { ...values, team_id: props.team.id, trigger_when: Number(values.trigger_when ?? 0) } as Record<string, unknown>;
    if (kind !== 'outgoing') delete body.trigger_when;
    for (const field of fields)
      if (field.type === 'lines')
        body[field.name] = String(values[field.name] ?? '')
          .split(/[\n,]/)
          .map((line) => line.trim())
          .filter(Boolean);
    try {
      let saved: Item;
      if (kind === 'incoming') saved = item ? await client.updateIncomingWebhook(body as unknown as IncomingWebhook) : await client.createIncomingWebhook(body as unknown as IncomingWebhook);
      else if (kind === 'outgoing') saved = item ? await client.updateOutgoingWebhook(body as unknown as OutgoingWebhook) : await client.createOutgoingWebhook(body as unknown as OutgoingWebhook);
      else saved = item ? await client.editCommand(body as unknown as Command) : await client.addCommand(body as unknown as Command);
      props.onSaved(saved);
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  };
  const meta = KINDS.find((entry) => entry.kind === kind)!;
  const title = item ? `Edit ${nameOf(kind, item)}` : `New ${meta.singular}`;
  return (
    <form class="console__form" onSubmit={submit} aria-label={title}>
      <h4>{title}</h4>
      {fields.map((field) => {
        const id = `${prefix}-${field.name}`;
        const help = field.help ? `${id}-help` : undefined;
        const value = values[field.name];
        let control;
        if (field.type === 'checkbox')
          control = <input id={id} type="checkbox" checked={Boolean(value)} onChange={(event) => set(field.name, (event.target as HTMLInputElement).checked)} aria-describedby={help} />;
        else if (field.type === 'select')
          control = (
            <select id={id} value={String(value ?? '')} onChange={(event) => set(field.name, (event.target as HTMLSelectElement).value)} aria-describedby={help}>
              {field.options!.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.text}
                </option>
              ))}
            </select>
          );
        else if (field.type === 'channel')
          control = (
            <select id={id} value={String(value ?? '')} required={field.required} onChange={(event) => set(field.name, (event.target as HTMLSelectElement).value)} aria-describedby={help}>
              <option value="">{field.optionalChannel ? 'Any channel' : 'Choose a channel'}</option>
              {props.channels
                .filter((channel) => field.channelTypes!.includes(channel.type))
                .map((channel) => (
                  <option key={channel.id} value={channel.id}>
                    {channel.display_name || channel.name}
                  </option>
                ))}
            </select>
          );
        else if (field.type === 'lines' || field.type === 'textarea')
          control = (
            <textarea
              id={id}
              rows={3}
              required={field.required}
              value={String(value ?? '')}
              onInput={(event) => set(field.name, (event.target as HTMLTextAreaElement).value)}
              aria-describedby={help}
            />
          );
        else control = <input id={id} type={field.type as string as "text"} required={field.required} value={String(value ?? '')} onInput={(event) => set(field.name, (event.target as HTMLInputElement).value)} aria-describedby={help} />;
        return (
          <div class={`console__field${field.type === 'checkbox' ? ' console__field--check' : ''}`} key={field.name}>
            <label for={id}>
              {field.label}
              {field.required ? <span aria-hidden="true"> *</span> : null}
            </label>
            {control}
            {help ? (
              <small id={help} class="console__help">
                {field.help}
              </small>
            ) : null}
          </div>
        );
      })}
      <ErrorAlert message={error} />
      <div class="console__actions">
        <button type="submit" class="btn btn--primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Saving…' : item ? 'Save' : 'Create'}
        </button>
        <button type="button" class="btn btn--default" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

const OUTCOMES: Record<DeliveryAttempt['outcome'], string> = {
  delivered: 'Delivered',
  retrying: 'Failed, will retry',
  dead_lettered: 'Failed, gave up',
  gone: 'Hook gone',
  refused: 'Refused',
  skipped: 'Skipped',
};

function DeliveryLog({ client, hookId }: { client: Client4; hookId: string }) {
  const [attempts, setAttempts] = useState<DeliveryAttempt[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [note, setNote] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const load = () => {
    setError(undefined);
    fetchJson<DeliveryAttempt[]>(client, `/hooks/outgoing/${encodeURIComponent(hookId)}/deliveries?page=0&per_page=50`, 'GET').then(setAttempts, (failure) => {
      setAttempts((current) => current ?? []);
      setError(errorMessage(failure));
    });
  };
  useEffect(load, [hookId]);
  const redeliver = async (deliveryId: string) => {
    setBusy(deliveryId);
    setNote(undefined);
    setError(undefined);
    try {
      const answer = await fetchJson<{ delivery_id: string }>(client, `/hooks/outgoing/${encodeURIComponent(hookId)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`, 'POST');
      setNote(`Redelivery queued as ${answer.delivery_id}. Refresh to see its attempts.`);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(undefined);
    }
  };
  // Only the newest attempt of each delivery offers a redelivery.
  const newestOf = new Set<string>();
  const firsts = new Set<string>();
  for (const attempt of attempts ?? []) {
    if (!firsts.has(attempt.delivery_id)) newestOf.add(`${attempt.delivery_id}#${attempt.attempt}`);
    firsts.add(attempt.delivery_id);
  }
  return (
    <section class="deliveries" aria-label="Delivery log">
      <div class="console__toolbar">
        <h5>Delivery log</h5>
        <button type="button" class="btn btn--default" onClick={load}>
          Refresh
        </button>
      </div>
      {!attempts ? (
        <p class="loading" role="status">
          Loading deliveries…
        </p>
      ) : attempts.length === 0 && !error ? (
        <p class="empty">No deliveries yet.</p>
      ) : (
        <div class="deliveries__scroll">
          <table class="deliveries__table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Attempt</th>
                <th scope="col">Outcome</th>
                <th scope="col">Status</th>
                <th scope="col">Latency</th>
                <th scope="col">Error</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {attempts.map((attempt) => (
                <tr key={`${attempt.delivery_id}#${attempt.attempt}`} class={`deliveries__row deliveries__row--${attempt.outcome}`}>
                  <td>
                    <time dateTime={new Date(attempt.attempted_at).toISOString()}>{new Date(attempt.attempted_at).toLocaleString()}</time>
                  </td>
                  <td>{attempt.attempt}</td>
                  <td>{OUTCOMES[attempt.outcome] ?? attempt.outcome}</td>
                  <td>{attempt.status || '—'}</td>
                  <td>{attempt.latency_ms != null ? `${attempt.latency_ms} ms` : '—'}</td>
                  <td class="console__break">{attempt.error || '—'}</td>
                  <td>
                    {newestOf.has(`${attempt.delivery_id}#${attempt.attempt}`) ? (
                      <button type="button" class="btn btn--default" onClick={() => redeliver(attempt.delivery_id)} disabled={busy === attempt.delivery_id} aria-busy={busy === attempt.delivery_id}>
                        {busy === attempt.delivery_id ? 'Redelivering…' : 'Redeliver'}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {note ? (
        <p role="status" class="console__note">
          {note}
        </p>
      ) : null}
      <ErrorAlert message={error} />
    </section>
  );
}
