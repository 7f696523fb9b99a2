/**
 * A command as clients receive it: Mattermost's `Command` JSON, field for field, with the token
 * (kept apart from the command in storage) where Mattermost shows it, or sanitized as its
 * `Command.Sanitize` does (no token, creator, method, URL, username or icon).
 */
import type { Command } from '../model.js';

export interface ClientCommand extends Omit<Command, 'method'> {
  token: string;
  /** 'P' or 'G'; empty once sanitized. */
  method: string;
  /** Plugins register no commands in Hookline: always empty. */
  plugin_id: string;
}

/**
 * How a command presents itself (its answers' name and icon, its autocomplete entry, its title):
 * the fields that every copy of a command takes over as they are.
 */
export function commandPresentation(command: Pick<Command, 'username' | 'icon_url' | 'auto_complete' | 'auto_complete_desc' | 'auto_complete_hint' | 'display_name' | 'description'>) {
  return {
    username: command.username,
    icon_url: command.icon_url,
    auto_complete: command.auto_complete,
    auto_complete_desc: command.auto_complete_desc,
    auto_complete_hint: command.auto_complete_hint,
    display_name: command.display_name,
    description: command.description,
  };
}

export function commandForClient(command: Command, token: string): ClientCommand {
  return {
    id: command.id,
    token,
    create_at: command.create_at,
    update_at: command.update_at,
    delete_at: command.delete_at,
    creator_id: command.creator_id,
    team_id: command.team_id,
    trigger: command.trigger,
    method: command.method,
    ...commandPresentation(command),
    url: command.url,
    plugin_id: '',
  };
}

export function sanitizedCommand(command: Command): ClientCommand {
  return { ...commandForClient(command, ''), creator_id: '', method: '', url: '', username: '', icon_url: '' };
}
