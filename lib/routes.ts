/**
 * The public routes and the function serving each. serverless.yml declares the same routes for
 * API Gateway (a test keeps the two equal); the catch-all function reads this to tell 405 from 404.
 */
export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  functionName: string;
}

export const routes: RouteDefinition[] = [
  { method: 'GET', path: '/api/v4/system/ping', functionName: 'ping' },
  { method: 'POST', path: '/hooks/{hook_id}', functionName: 'incomingWebhook' },
  { method: 'POST', path: '/api/v4/posts', functionName: 'createPost' },
  { method: 'GET', path: '/api/v4/posts/{post_id}', functionName: 'getPost' },
  { method: 'GET', path: '/api/v4/channels/{channel_id}/posts', functionName: 'getChannelPosts' },
  { method: 'POST', path: '/api/v4/posts/{post_id}/actions/{action_id}', functionName: 'postAction' },
  { method: 'POST', path: '/api/v4/commands/execute', functionName: 'executeCommand' },
  { method: 'POST', path: '/hooks/commands/{id}', functionName: 'commandWebhook' },
  { method: 'GET', path: '/api/v4/teams/{team_id}/commands/autocomplete', functionName: 'commandsAutocomplete' },
  { method: 'GET', path: '/api/v4/teams/{team_id}/commands/autocomplete_suggestions', functionName: 'commandsAutocomplete' },
  { method: 'POST', path: '/api/v4/commands', functionName: 'commandsManagement' },
  { method: 'GET', path: '/api/v4/commands', functionName: 'commandsManagement' },
  { method: 'GET', path: '/api/v4/commands/{command_id}', functionName: 'commandsManagement' },
  { method: 'PUT', path: '/api/v4/commands/{command_id}', functionName: 'commandsManagement' },
  { method: 'PUT', path: '/api/v4/commands/{command_id}/move', functionName: 'commandsManagement' },
  { method: 'PUT', path: '/api/v4/commands/{command_id}/regen_token', functionName: 'commandsManagement' },
  { method: 'DELETE', path: '/api/v4/commands/{command_id}', functionName: 'commandsManagement' },
  { method: 'GET', path: '/api/v4/users/username/{username}', functionName: 'users' },
  { method: 'GET', path: '/api/v4/users/{user_id}', functionName: 'users' },
  { method: 'POST', path: '/api/v4/users/ids', functionName: 'users' },
  { method: 'POST', path: '/api/v4/users/usernames', functionName: 'users' },
  { method: 'GET', path: '/api/v4/users/{user_id}/teams', functionName: 'users' },
  { method: 'POST', path: '/api/v4/users/{user_id}/tokens', functionName: 'accessTokens' },
  { method: 'GET', path: '/api/v4/users/{user_id}/tokens', functionName: 'accessTokens' },
  { method: 'GET', path: '/api/v4/users/tokens', functionName: 'accessTokens' },
  { method: 'GET', path: '/api/v4/users/tokens/{token_id}', functionName: 'accessTokens' },
  { method: 'POST', path: '/api/v4/users/tokens/revoke', functionName: 'accessTokens' },
  { method: 'POST', path: '/api/v4/users/tokens/disable', functionName: 'accessTokens' },
  { method: 'POST', path: '/api/v4/users/tokens/enable', functionName: 'accessTokens' },
  { method: 'POST', path: '/api/v4/users/tokens/search', functionName: 'accessTokens' },
  { method: 'GET', path: '/api/v4/teams/{team_id}', functionName: 'teams' },
  { method: 'GET', path: '/api/v4/teams/name/{name}', functionName: 'teams' },
  { method: 'GET', path: '/api/v4/channels/{channel_id}', functionName: 'channels' },
  { method: 'GET', path: '/api/v4/teams/{team_id}/channels/name/{channel_name}', functionName: 'channels' },
  { method: 'GET', path: '/api/v4/teams/name/{team_name}/channels/name/{channel_name}', functionName: 'channels' },
  { method: 'GET', path: '/api/v4/users/{user_id}/teams/{team_id}/channels', functionName: 'channels' },
  { method: 'POST', path: '/api/v4/channels/direct', functionName: 'channels' },
  { method: 'PUT', path: '/api/v4/posts/{post_id}', functionName: 'postEdits' },
  { method: 'PUT', path: '/api/v4/posts/{post_id}/patch', functionName: 'postEdits' },
  { method: 'DELETE', path: '/api/v4/posts/{post_id}', functionName: 'postEdits' },
  { method: 'GET', path: '/api/v4/posts/{post_id}/thread', functionName: 'postThread' },
  { method: 'POST', path: '/api/v4/reactions', functionName: 'reactions' },
  { method: 'DELETE', path: '/api/v4/users/{user_id}/posts/{post_id}/reactions/{emoji_name}', functionName: 'reactions' },
  { method: 'GET', path: '/api/v4/posts/{post_id}/reactions', functionName: 'reactions' },
  { method: 'POST', path: '/api/v4/hooks/incoming', functionName: 'hooksManagement' },
  { method: 'GET', path: '/api/v4/hooks/incoming', functionName: 'hooksManagement' },
  { method: 'GET', path: '/api/v4/hooks/incoming/{hook_id}', functionName: 'hooksManagement' },
  { method: 'PUT', path: '/api/v4/hooks/incoming/{hook_id}', functionName: 'hooksManagement' },
  { method: 'DELETE', path: '/api/v4/hooks/incoming/{hook_id}', functionName: 'hooksManagement' },
  { method: 'POST', path: '/api/v4/hooks/incoming/{hook_id}/move/{user_id}', functionName: 'hooksManagement' },
  { method: 'POST', path: '/api/v4/hooks/outgoing', functionName: 'hooksManagement' },
  { method: 'GET', path: '/api/v4/hooks/outgoing', functionName: 'hooksManagement' },
  { method: 'GET', path: '/api/v4/hooks/outgoing/{hook_id}', functionName: 'hooksManagement' },
  { method: 'PUT', path: '/api/v4/hooks/outgoing/{hook_id}', functionName: 'hooksManagement' },
  { method: 'DELETE', path: '/api/v4/hooks/outgoing/{hook_id}', functionName: 'hooksManagement' },
  { method: 'POST', path: '/api/v4/hooks/outgoing/{hook_id}/regen_token', functionName: 'hooksManagement' },
  { method: 'POST', path: '/api/v4/hooks/outgoing/{hook_id}/rotate_signing_secret', functionName: 'hooksManagement' },
  { method: 'GET', path: '/api/v4/hooks/outgoing/{hook_id}/deliveries', functionName: 'deliveryLog' },
  { method: 'POST', path: '/api/v4/hooks/outgoing/{hook_id}/deliveries/{delivery_id}/redeliver', functionName: 'deliveryLog' },
  { method: 'POST', path: '/api/v4/actions/dialogs/open', functionName: 'dialogs' },
  { method: 'POST', path: '/api/v4/actions/dialogs/submit', functionName: 'dialogs' },
  { method: 'POST', path: '/api/v4/actions/dialogs/lookup', functionName: 'dialogs' },
  { method: 'GET', path: '/', functionName: 'webApp' },
  { method: 'GET', path: '/static/{file}', functionName: 'webApp' },
];

/**
 * A path segment percent-decoded, or as it is when it is not valid percent-encoding (`%zz`, a
 * lone `%`, an escape that is not UTF-8). API Gateway's HTTP API hands functions the path already
 * decoded, so a literal `%` can reach here either way; the handlers validate every parameter, so
 * an undecodable segment is refused there with a 4xx rather than thrown here as a 500.
 */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Matches a concrete path against a route template; returns the path parameters or undefined. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const templateParts = template.split('/');
  const pathParts = path.split('/');
  if (templateParts.length !== pathParts.length) return undefined;
  const parameters: Record<string, string> = {};
  for (let i = 0; i < templateParts.length; i++) {
    const expected = templateParts[i]!;
    const actual = pathParts[i]!;
    const parameter = /^\{(\w+)\}$/.exec(expected);
    if (parameter) {
      if (actual === '') return undefined;
      parameters[parameter[1]!] = decodePathSegment(actual);
    } else if (expected !== actual) return undefined;
  }
  return parameters;
}
