/** The entities, with Mattermost's JSON field names. */
export type ChannelType = 'O' | 'P' | 'D';

export interface Team {
  id: string;
  name: string;
  display_name: string;
  create_at: number;
  update_at: number;
  delete_at: number;
}

export interface Channel {
  id: string;
  team_id: string;
  name: string;
  display_name: string;
  type: ChannelType;
  creator_id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
}

export interface User {
  id: string;
  username: string;
  /**
   * System roles, space-separated as Mattermost sends them (`system_user`, `system_admin system_user`).
   * Users stored before roles existed read as `system_user` (see lib/permissions.ts `systemRolesOf`).
   */
  roles: string;
  create_at: number;
  update_at: number;
  delete_at: number;
}

/** A team membership and its roles (`team_user`, `team_user team_admin`, custom roles). */
export interface TeamMember {
  team_id: string;
  user_id: string;
  roles: string;
  delete_at: number;
}

/** A channel membership and its roles (`channel_user`, `channel_user channel_admin`). */
export interface ChannelMember {
  channel_id: string;
  user_id: string;
  roles: string;
}

/** A role: Mattermost's default ones (lib/permissions.ts) or a custom one from the seed file. */
export interface Role {
  name: string;
  permissions: string[];
}

export interface IncomingWebhook {
  id: string;
  channel_id: string;
  team_id: string;
  user_id: string;
  display_name: string;
  description: string;
  username: string;
  icon_url: string;
  channel_locked: boolean;
  create_at: number;
  update_at: number;
  delete_at: number;
}

/**
 * An integration's credentials: Mattermost's `token` (sent in every request) and the Standard
 * Webhooks signing secret. Stored apart from the integration (see keys.secrets), so that only the
 * functions that call integrations can read them.
 */
export interface IntegrationSecrets {
  token: string;
  signing_secret: string;
  /**
   * After a rotation (POST /api/v4/hooks/outgoing/{id}/rotate_signing_secret), the secret it
   * replaced, which still signs requests beside the new one until `previous_signing_secret_expires_at`
   * (ms since the epoch), so that receivers can switch without dropping a request.
   */
  previous_signing_secret?: string;
  previous_signing_secret_expires_at?: number;
}

export interface OutgoingWebhook {
  id: string;
  creator_id: string;
  channel_id: string;
  team_id: string;
  trigger_words: string[];
  trigger_when: 0 | 1;
  callback_urls: string[];
  display_name: string;
  description: string;
  content_type: string;
  username: string;
  icon_url: string;
  create_at: number;
  update_at: number;
  delete_at: number;
}

export interface Command {
  id: string;
  creator_id: string;
  team_id: string;
  trigger: string;
  method: 'P' | 'G';
  url: string;
  username: string;
  icon_url: string;
  auto_complete: boolean;
  auto_complete_desc: string;
  auto_complete_hint: string;
  display_name: string;
  description: string;
  create_at: number;
  update_at: number;
  delete_at: number;
}

export interface PostPriority {
  priority?: string | null;
  requested_ack?: boolean | null;
  persistent_notifications?: boolean | null;
}

/**
 * Who made a post: an incoming webhook, an outgoing webhook's reply, a slash command's answer (also
 * through its response_url), or a user; `id` is that hook's, command's or user's id. Clicks on a
 * post's buttons carry it, signed, so an integration can tell a button it made from one a user
 * posted with its URL.
 */
export interface PostOrigin {
  kind: 'incoming_webhook' | 'outgoing_reply' | 'command' | 'user';
  id: string;
}

export interface PostMetadata {
  priority?: PostPriority;
}

export interface Post {
  id: string;
  create_at: number;
  update_at: number;
  edit_at: number;
  delete_at: number;
  is_pinned: boolean;
  /** Whether the post has reactions (kept with them, lib/store/posts.ts). */
  has_reactions: boolean;
  user_id: string;
  channel_id: string;
  root_id: string;
  original_id: string;
  message: string;
  type: string;
  props: Record<string, unknown>;
  hashtags: string;
  pending_post_id: string;
  reply_count: number;
  /** On a root post: when its newest reply was created (0 without replies). */
  last_reply_at: number;
  metadata: PostMetadata;
  /** Internal: the one user an ephemeral post is for. Never sent to clients. */
  ephemeral_for?: string;
  /** Internal: who made the post, signed into every click on its buttons. Never sent to clients. */
  origin?: PostOrigin;
  /**
   * Internal: how many times the post's content was written over (`PostStore.writeEdit`), absent
   * before the first; an edit holds only if it is what the edit read. Never sent to clients.
   */
  content_version?: number;
}

/** Mattermost's `model.Reaction`. */
export interface Reaction {
  user_id: string;
  post_id: string;
  emoji_name: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  remote_id: string;
  channel_id: string;
}

export interface CommandWebhook {
  id: string;
  create_at: number;
  command_id: string;
  user_id: string;
  channel_id: string;
  team_id: string;
  root_id: string;
  use_count: number;
}

export interface PostList {
  order: string[];
  posts: Record<string, Post>;
  next_post_id: string;
  prev_post_id: string;
  has_next: boolean;
}

/**
 * Mattermost's `model.UserAccessToken` (a personal access token), without its secret: only the
 * hash of the secret is stored, and the secret is shown once, by the call that creates it.
 * `expires_at` is in milliseconds, 0 for never; `create_at` is Hookline's addition.
 */
export interface UserAccessToken {
  id: string;
  user_id: string;
  description: string;
  is_active: boolean;
  expires_at: number;
  create_at: number;
}
