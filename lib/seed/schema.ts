import { z } from 'zod';

/** The seed file (docs/seed-format.md). Entries are strict so a misspelt field is an error, not silently ignored. */
const optionalText = z.string().optional();
/**
 * A hook's or command's stable name within its team, chosen by the operator, so that an entry can
 * be renamed, moved or re-triggered in place without spelling out a generated id.
 */
const seedKey = z.string().optional();

export const teamEntry = z.strictObject({
  id: optionalText,
  name: z.string(),
  display_name: optionalText,
});

export const channelEntry = z.strictObject({
  id: optionalText,
  team: z.string(),
  name: z.string(),
  display_name: optionalText,
  type: z.enum(['O', 'P']).default('O'),
  /** Hookline's addition: archive the channel (which, as in Mattermost, soft-deletes its incoming webhooks). */
  archived: z.boolean().default(false),
});

/** A custom role: Mattermost permission ids under a name that users and memberships can carry. */
export const roleEntry = z.strictObject({
  name: z.string(),
  permissions: z.array(z.string()),
});

/** A membership: the team (or `team/channel`) alone for a plain member, or with its roles. */
const membership = z.union([z.string(), z.strictObject({ name: z.string(), roles: z.array(z.string()).default([]) })]);

export const userEntry = z.strictObject({
  id: optionalText,
  username: z.string(),
  token: optionalText,
  /** System roles; `system_user` is always among them. */
  roles: z.array(z.string()).default(['system_user']),
  teams: z.array(membership).default([]),
  channels: z.array(membership).default([]),
});

export const incomingWebhookEntry = z.strictObject({
  id: optionalText,
  key: seedKey,
  team: z.string(),
  channel: z.string(),
  creator: z.string(),
  display_name: z.string().default(''),
  description: z.string().default(''),
  username: z.string().default(''),
  icon_url: z.string().default(''),
  channel_locked: z.boolean().default(false),
});

export const outgoingWebhookEntry = z.strictObject({
  id: optionalText,
  key: seedKey,
  team: z.string(),
  channel: z.string().default(''),
  creator: z.string(),
  display_name: z.string().default(''),
  description: z.string().default(''),
  trigger_words: z.array(z.string()).default([]),
  trigger_when: z.union([z.literal(0), z.literal(1)]).default(0),
  callback_urls: z.array(z.string()),
  content_type: z.string().default('application/x-www-form-urlencoded'),
  token: optionalText,
  signing_secret: optionalText,
  username: z.string().default(''),
  icon_url: z.string().default(''),
});

export const commandEntry = z.strictObject({
  id: optionalText,
  key: seedKey,
  team: z.string(),
  trigger: z.string(),
  url: z.string(),
  method: z.enum(['P', 'G']).default('P'),
  creator: z.string(),
  token: optionalText,
  signing_secret: optionalText,
  username: z.string().default(''),
  icon_url: z.string().default(''),
  auto_complete: z.boolean().default(false),
  auto_complete_desc: z.string().default(''),
  auto_complete_hint: z.string().default(''),
  display_name: z.string().default(''),
  description: z.string().default(''),
});

export const seedFileSchema = z.strictObject({
  roles: z.array(roleEntry).default([]),
  teams: z.array(teamEntry).default([]),
  channels: z.array(channelEntry).default([]),
  users: z.array(userEntry).default([]),
  incoming_webhooks: z.array(incomingWebhookEntry).default([]),
  outgoing_webhooks: z.array(outgoingWebhookEntry).default([]),
  commands: z.array(commandEntry).default([]),
  /** Signs interactive message actions; generated once when not given (an export with secrets carries it). */
  action_signing_secret: optionalText,
});

export type SeedFile = z.infer<typeof seedFileSchema>;
