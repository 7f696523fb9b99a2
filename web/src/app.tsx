import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Client4 } from '@mattermost/client';
import type { Channel } from '@mattermost/types/channels';
import type { Team } from '@mattermost/types/teams';
import type { UserProfile } from '@mattermost/types/users';
import type { Command } from '@mattermost/types/integrations';
import { createClient, errorMessage } from './api.js';
import { websocketSource, type LiveState } from './live.js';
import { forgetToken, keepToken, storedToken } from './session.js';
import { ChannelView } from './channel-view.js';
import type { MenuSources } from './attachment.js';
import { DialogModal, type OpenDialog } from './dialog.js';
import { IntegrationsConsole, mayManage } from './console.js';
import { ErrorAlert } from './error-alert.js';

export function App() {
  const [session, setSession] = useState<{ client: Client4; me: UserProfile } | undefined>();
  const [restoring, setRestoring] = useState(() => storedToken() !== undefined);

  // A reload keeps the tab's token: check it is still good.
  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    const client = createClient(token);
    client.getMe().then(
      (me) => {
        setSession({ client, me });
        setRestoring(false);
      },
      () => {
        forgetToken();
        setRestoring(false);
      },
    );
  }, []);

  if (restoring)
    return (
      <p class="loading" role="status">
        Signing in…
      </p>
    );
  if (!session) return <SignIn onSignedIn={(client, me) => setSession({ client, me })} />;
  return (
    <Workspace
      client={session.client}
      me={session.me}
      signOut={() => {
        forgetToken();
        setSession(undefined);
      }}
    />
  );
}

function SignIn({ onSignedIn }: { onSignedIn(client: Client4, me: UserProfile): void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const client = createClient(token.trim());
    try {
      const me = await client.getMe();
      keepToken(token.trim());
      onSignedIn(client, me);
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <form class="sign-in__form" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Hookline</h1>
        <p>Sign in with a personal access token. It is kept for this tab only and forgotten when you sign out or close the tab.</p>
        <label for="token">Personal access token</label>
        <input id="token" type="password" autocomplete="off" spellcheck={false} required value={token} onInput={(event) => setToken((event.target as HTMLInputElement).value)} aria-describedby={error ? 'sign-in-error' : undefined} autoFocus />
        <button type="submit" class="btn btn--primary" disabled={busy || !token.trim()} aria-busy={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorAlert message={error} id="sign-in-error" />
      </form>
    </main>
  );
}

/** How long a dialog opened before its click or command answered waits for its trigger id. */
const EARLY_DIALOG_MS = 10_000;

/** The websocket's URL when it is not on the page's origin (on AWS), as `GET /` names it. */
const socketUrl = () => document.querySelector<HTMLMetaElement>('meta[name="hookline-websocket-url"]')?.content || undefined;

const CHANNEL_GROUPS: Array<{ title: string; types: string[] }> = [
  { title: 'Channels', types: ['O'] },
  { title: 'Private channels', types: ['P'] },
  { title: 'Direct messages', types: ['D', 'G'] },
];

function Workspace({ client, me, signOut }: { client: Client4; me: UserProfile; signOut(): void }) {
  const [liveState, setLiveState] = useState<LiveState>('connecting');
  const live = useMemo(() => websocketSource(client, { url: socketUrl(), token: client.getToken(), onState: setLiveState }), [client]);
  useEffect(() => () => live.close(), [live]);
  const [teams, setTeams] = useState<Team[] | undefined>();
  const [teamId, setTeamId] = useState<string | undefined>();
  const [channels, setChannels] = useState<Channel[] | undefined>();
  const [channelId, setChannelId] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [profiles, setProfiles] = useState<Map<string, UserProfile>>(() => new Map([[me.id, me]]));
  const [menuOpen, setMenuOpen] = useState(false);
  const requested = useRef(new Set<string>([me.id]));
  const commands = useRef(new Map<string, Promise<Command[]>>());
  const lastTrigger = useRef<string | undefined>(undefined);
  const [dialog, setDialog] = useState<OpenDialog | undefined>();
  const [view, setView] = useState<'channel' | 'console'>('channel');
  // The console is offered to those the management API answers for this team.
  const [canManage, setCanManage] = useState(false);
  useEffect(() => {
    setCanManage(false);
    if (!teamId) return;
    let current = true;
    mayManage(client, teamId).then((allowed) => {
      if (!current) return;
      setCanManage(allowed);
      if (!allowed) setView('channel');
    });
    return () => {
      current = false;
    };
  }, [teamId]);

  // A dialog shows only when it answers the user's own last click or command, as in Mattermost.
  // The integration may open it before the click or command has answered (and named its trigger
  // id): such dialogs wait a few seconds for their trigger id.
  const early = useRef<Array<{ at: number; open: OpenDialog }>>([]);
  useEffect(
    () =>
      live.onOpenDialog?.((open) => {
        if (open.trigger_id === lastTrigger.current) return setDialog(open);
        const now = Date.now();
        early.current = [...early.current.filter((entry) => entry.at > now - EARLY_DIALOG_MS), { at: now, open }];
      }),
    [live],
  );
  const rememberTrigger = (triggerId: string) => {
    lastTrigger.current = triggerId;
    const waiting = early.current.find((entry) => entry.open.trigger_id === triggerId && entry.at > Date.now() - EARLY_DIALOG_MS);
    early.current = [];
    if (waiting) setDialog(waiting.open);
  };

  useEffect(() => {
    client.getMyTeams().then(
      (list) => {
        setTeams(list);
        setTeamId(list[0]?.id);
      },
      (failure) => setError(errorMessage(failure)),
    );
  }, [client]);

  /** Reads the team's channels (with the user's direct channels); the selected one stays if it is still listed. */
  const loadChannels = (forTeam: string) =>
    client.getMyChannels(forTeam).then(
      (list) => {
        listedChannels.current = new Set(list.map((channel) => channel.id));
        setChannels(list);
        setChannelId((current) => (current && list.some((channel) => channel.id === current) ? current : (list.find((channel) => channel.name === 'town-square') ?? list[0])?.id));
        needProfiles(list.filter((channel) => channel.type === 'D').flatMap((channel) => channel.name.split('__')));
      },
      (failure) => setError(errorMessage(failure)),
    );
  const listedChannels = useRef(new Set<string>());
  const teamRef = useRef<string | undefined>(undefined);
  teamRef.current = teamId;

  useEffect(() => {
    if (!teamId) return;
    setChannels(undefined);
    void loadChannels(teamId);
  }, [teamId]);

  // A direct channel created with the user, or the first post of a channel they were added to
  // while connected: the list is read again, without a reload. A channel of another team stays
  // unlisted, so each unknown channel is read for once only.
  const looked = useRef(new Set<string>());
  useEffect(
    () =>
      live.onChannelActivity?.((changedId, event) => {
        const forTeam = teamRef.current;
        if (!forTeam || listedChannels.current.has(changedId) || (event === 'posted' && looked.current.has(changedId))) return;
        looked.current.add(changedId);
        void loadChannels(forTeam);
      }),
    [live],
  );

  const needProfiles = (ids: string[]) => {
    const missing = ids.filter((id) => /^[a-z0-9]{26}$/.test(id) && !requested.current.has(id));
    if (missing.length === 0) return;
    for (const id of missing) requested.current.add(id);
    client.getProfilesByIds(missing).then(
      (list) =>
        setProfiles((current) => {
          const next = new Map(current);
          for (const profile of list) next.set(profile.id, profile);
          return next;
        }),
      () => {
        for (const id of missing) requested.current.delete(id);
      },
    );
  };

  const channelLabel = (channel: Channel) => {
    if (channel.type === 'D') {
      const ids = channel.name.split('__');
      const other = ids.find((id) => id !== me.id) ?? me.id;
      const name = profiles.get(other)?.username ?? '…';
      return other === me.id ? `@${name} (you)` : `@${name}`;
    }
    return channel.display_name || channel.name;
  };

  const team = teams?.find((candidate) => candidate.id === teamId);
  const channel = channels?.find((candidate) => candidate.id === channelId);
  const menus: MenuSources = {
    channels: channels ?? [],
    knownUsernames: [...profiles.values()].map((profile) => profile.username),
    userIdByName: async (username) => {
      const known = [...profiles.values()].find((profile) => profile.username === username.toLowerCase());
      if (known) return known.id;
      try {
        return (await client.getUserByUsername(username.toLowerCase())).id;
      } catch {
        return undefined;
      }
    },
  };
  const loadCommands = () => {
    if (!teamId) return Promise.resolve([]);
    let list = commands.current.get(teamId);
    if (!list) {
      list = client.getAutocompleteCommandsList(teamId, 0, 200).then((found) => found.filter((command) => command.auto_complete !== false));
      list.catch(() => commands.current.delete(teamId!));
      commands.current.set(teamId, list);
    }
    return list;
  };

  return (
    <div class={`workspace${menuOpen ? ' workspace--menu-open' : ''}`} data-live={liveState}>
      <a class="skip-link" href="#messages">
        Skip to messages
      </a>
      <header class="topbar">
        <button type="button" class="btn btn--default topbar__menu" aria-expanded={menuOpen} aria-controls="sidebar" onClick={() => setMenuOpen(!menuOpen)}>
          Channels
        </button>
        <h1 class="topbar__title">Hookline</h1>
        {teams && teams.length > 1 ? (
          <>
            <label for="team" class="visually-hidden">
              Team
            </label>
            <select id="team" value={teamId} onChange={(event) => setTeamId((event.target as HTMLSelectElement).value)}>
              {teams.map((candidate) => (
                <option key={candidate.id} value={candidate.id}>
                  {candidate.display_name || candidate.name}
                </option>
              ))}
            </select>
          </>
        ) : (
          <span class="topbar__team">{team ? team.display_name || team.name : ''}</span>
        )}
        {canManage ? (
          <button type="button" class="btn btn--default" aria-pressed={view === 'console'} onClick={() => setView(view === 'console' ? 'channel' : 'console')}>
            Integrations
          </button>
        ) : null}
        <span class="topbar__live" role="status">
          {liveState === 'polling' ? 'Reconnecting…' : ''}
        </span>
        <span class="topbar__me">
          <span class="visually-hidden">Signed in as </span>@{me.username}
        </span>
        <button type="button" class="btn btn--default" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav class="sidebar" id="sidebar" aria-label="Channels">
        {!channels && !error ? (
          <p class="loading" role="status">
            Loading channels…
          </p>
        ) : null}
        {teams && teams.length === 0 ? <p class="empty">You are not in any team yet.</p> : null}
        {channels
          ? CHANNEL_GROUPS.map((group) => {
              const list = channels.filter((candidate) => group.types.includes(candidate.type)).sort((a, b) => channelLabel(a).localeCompare(channelLabel(b)));
              if (list.length === 0) return null;
              const headingId = `group-${group.types[0]}`;
              return (
                <div class="sidebar__group" key={group.title}>
                  <h2 id={headingId}>{group.title}</h2>
                  <ul aria-labelledby={headingId}>
                    {list.map((candidate) => (
                      <li key={candidate.id}>
                        <button
                          type="button"
                          class={`sidebar__channel${candidate.id === channelId ? ' sidebar__channel--active' : ''}`}
                          aria-current={candidate.id === channelId ? 'page' : undefined}
                          onClick={() => {
                            setChannelId(candidate.id);
                            setView('channel');
                            setMenuOpen(false);
                          }}
                        >
                          <span aria-hidden="true" class="sidebar__icon">
                            {candidate.type === 'O' ? '#' : candidate.type === 'P' ? <LockIcon /> : '@'}
                          </span>
                          {channelLabel(candidate).replace(/^@/, '')}
                          <span class="visually-hidden">{candidate.type === 'P' ? ' (private)' : candidate.type === 'D' ? ' (direct message)' : ''}</span>
                        </button>
                      </li>
                    ))}
                  </ul>
                </div>
              );
            })
          : null}
      </nav>
      <main class="content">
        <ErrorAlert message={error} />
        {view === 'console' && team ? (
          <IntegrationsConsole client={client} team={team} channels={channels ?? []} close={() => setView('channel')} />
        ) : channel && team ? (
          <ChannelView
            key={channel.id}
            client={client}
            live={live}
            channel={channel}
            channelLabel={channel.type === 'D' ? channelLabel(channel) : `${channel.type === 'P' ? '' : '#'}${channelLabel(channel)}`}
            team={team}
            me={me}
            profile={(id) => profiles.get(id)}
            needProfiles={needProfiles}
            loadCommands={loadCommands}
            menus={menus}
            rememberTrigger={rememberTrigger}
          />
        ) : channels && channels.length === 0 ? (
          <p class="empty">No channels in this team yet.</p>
        ) : null}
      </main>
      {dialog && channel && team ? <DialogModal client={client} open={dialog} channelId={channel.id} teamId={team.id} channels={channels ?? []} close={() => setDialog(undefined)} /> : null}
    </div>
  );
}

const LockIcon = () => (
  <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" focusable="false">
    <path fill="currentColor" d="M3 5V3.5a3 3 0 0 1 6 0V5h.5a.5.5 0 0 1 .5.5v5a.5.5 0 0 1-.5.5h-7a.5.5 0 0 1-.5-.5v-5a.5.5 0 0 1 .5-.5H3zm1.5 0h3V3.5a1.5 1.5 0 0 0-3 0V5z" />
  </svg>
);
