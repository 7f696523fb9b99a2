/**
 * A command as clients receive it: Mattermost's `Command` JSON, field for field, with the token
 * (kept apart from the command in storage) where Mattermost shows it, or sanitized as its
 * `Command.Sanitize` does (no token, creator, method, URL, username or icon).
 */
import type { Command } from '../model.js';

export interface ClientCommand {
  id: string;
  token: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  creator_id: string;
  team_id: string;
  trigger: string;
  method: string;
  username: string;
  icon_url: string;
  auto_complete: boolean;
  auto_complete_desc: string;
  auto_complete_hint: string;
  display_name: string;
  description: string;
  url: string;
  /** Plugins register no commands in Hookline: always empty. */
  plugin_id: string;
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
    username: command.username,
    icon_url: command.icon_url,
    auto_complete: command.auto_complete,
    auto_complete_desc: command.auto_complete_desc,
    auto_complete_hint: command.auto_complete_hint,
    display_name: command.display_name,
    description: command.description,
    url: command.url,
    plugin_id: '',
  };
}

export function sanitizedCommand(command: Command): ClientCommand {
  return { ...commandForClient(command, ''), creator_id: '', method: '', url: '', username: '', icon_url: '' };
}
