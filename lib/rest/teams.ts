/**
 * The team routes: a team by id or name, and the caller's teams. Hookline's teams are all
 * invite-only (Mattermost's type `I`, `allow_open_invite` false), so, as in Mattermost, only a
 * member sees a team: others get 403 for a team that exists and 404 for one that does not.
 */
import { AppError, errors } from '../errors.js';
import { isValidId } from '../ids.js';
import { MAX_TEAMS_PER_USER } from '../limits.js';
import type { Team, User } from '../model.js';
import type { Runtime } from '../runtime.js';
import { keys } from '../store/keys.js';
import { isValidTeamName } from '../validation.js';
import { resolveUserId } from './users.js';

/** Mattermost's `model.Team`, sanitized as for a user without `manage_team` (no email, no invite id). */
export interface ClientTeam {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  display_name: string;
  name: string;
  description: string;
  email: string;
  type: 'O' | 'I';
  company_name: string;
  allowed_domains: string;
  invite_id: string;
  allow_open_invite: boolean;
  scheme_id: string;
  group_constrained: boolean;
  policy_id: string | null;
}

export function teamForClient(team: Team): ClientTeam {
  return {
    id: team.id,
    create_at: team.create_at,
    update_at: team.update_at,
    delete_at: team.delete_at,
    display_name: team.display_name,
    name: team.name,
    description: '',
    email: '',
    type: 'I',
    company_name: '',
    allowed_domains: '',
    invite_id: '',
    allow_open_invite: false,
    scheme_id: '',
    group_constrained: false,
    policy_id: null,
  };
}

async function visibleTeam(runtime: Runtime, caller: User, team: Team | undefined, notFound: () => AppError): Promise<ClientTeam> {
  if (!team) throw notFound();
  if (!(await runtime.entities.isTeamMember(team.id, caller.id))) throw errors.permissions();
  return teamForClient(team);
}

/** `GET /api/v4/teams/{team_id}`. */
export async function getTeam(runtime: Runtime, caller: User, teamId: string): Promise<ClientTeam> {
  if (!isValidId(teamId)) throw errors.invalidUrlParam('team_id');
  return visibleTeam(runtime, caller, await runtime.directory.team(teamId), () =>
    new AppError('app.team.get.find.app_error', 'Unable to find the existing team.', 404),
  );
}

/** `GET /api/v4/teams/name/{name}`. */
export async function getTeamByName(runtime: Runtime, caller: User, nameParam: string): Promise<ClientTeam> {
  const name = nameParam.toLowerCase();
  if (!isValidTeamName(name)) throw errors.invalidUrlParam('team_name');
  const notFound = () => new AppError('app.team.get_by_name.missing.app_error', 'Unable to find the existing team.', 404);
  // Two requests: the name's pointer, then the team with the caller's membership.
  const pointer = await runtime.entities.getRaw(keys.teamName(name));
  if (typeof pointer?.target_id !== 'string') throw notFound();
  const [team, member] = await runtime.entities.getMany<Record<string, unknown>>([keys.team(pointer.target_id), keys.teamMember(pointer.target_id, caller.id)]);
  if (!team) throw notFound();
  if (member === undefined) throw errors.permissions();
  return teamForClient(team as unknown as Team);
}

/**
 * `GET /api/v4/users/{user_id}/teams`: the caller's own teams (another user's are 403: only
 * system admins may list them in Mattermost, and Hookline has none yet). Archived teams are left
 * out, as in Mattermost.
 */
export async function getTeamsForUser(runtime: Runtime, caller: User, userIdParam: string): Promise<ClientTeam[]> {
  const userId = resolveUserId(caller, userIdParam);
  if (userId !== caller.id) throw errors.permissions();
  const teamIds = await runtime.entities.teamIdsOfUser(userId, MAX_TEAMS_PER_USER);
  const teams = await runtime.entities.getMany<Team>(teamIds.map((teamId) => keys.team(teamId)));
  return teams
    .filter((team): team is Team => team !== undefined && team.delete_at === 0)
    .sort((a, b) => a.display_name.localeCompare(b.display_name) || a.name.localeCompare(b.name))
    .map(teamForClient);
}
