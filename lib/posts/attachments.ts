/**
 * The post's attachment model: Mattermost's `PostAction` as stored in `props.attachments[i].actions`,
 * its validity rule, the ids every action gets, which actions can be clicked, and what clients may
 * not see of them (integration URLs and contexts).
 */
import { AppError } from '../errors.js';
import { newId } from '../ids.js';
import { isValidHttpUrl } from '../validation.js';
import { isPlainObject } from '../http/go-json.js';
import type { SlackAttachment } from '../slack.js';

/** Mattermost's `PostAction`, as stored in `props.attachments[i].actions[j]`. */
export interface PostAction {
  id?: string;
  type?: string;
  name?: string;
  disabled?: boolean;
  style?: string;
  data_source?: string;
  options?: Array<{ text: string; value: string }>;
  default_option?: string;
  integration?: { url?: string; context?: Record<string, unknown> };
  cookie?: string;
}

/** Props an integration's update can never change (`PostActionRetainPropKeys`). */
export const RETAINED_PROPS = ['from_webhook', 'override_username', 'override_icon_url'];

const ACTION_ID = /^[A-Za-z0-9_-]+$/;
const STYLES = new Set(['default', 'primary', 'success', 'good', 'warning', 'danger']);

const invalid = (problem: string) => new AppError('model.post_action.is_valid.app_error', `Invalid action: ${problem}.`, 400);

/** `PostAction.IsValid` (newest model), plus Hookline's rule on ids, which its route must be able to carry. */
export function validateAction(action: PostAction): void {
  if (action.id !== undefined && action.id !== '' && !ACTION_ID.test(action.id)) throw invalid(`id "${action.id}" may use only letters, digits, "_" and "-"`);
  if (!action.name) throw invalid('name is required');
  if (action.style && !STYLES.has(action.style) && !/^#[0-9a-fA-F]{6}$/.test(action.style)) throw invalid(`style "${action.style}"`);
  const type = action.type || 'button';
  if (type === 'button') {
    if ((action.options?.length ?? 0) > 0 || action.data_source) throw invalid('a button has no options or data_source');
  } else if (type === 'select') {
    if (action.data_source) {
      if (action.data_source !== 'users' && action.data_source !== 'channels') throw invalid(`data_source "${action.data_source}"`);
      if ((action.options?.length ?? 0) > 0) throw invalid('a select with a data_source has no options');
    } else if (!action.options?.length || action.options.some((option) => !option.text || !option.value)) {
      throw invalid('a select needs options, each with text and value');
    }
  } else {
    throw invalid(`type "${type}" (button or select)`);
  }
  if (!action.integration?.url || !isValidHttpUrl(action.integration.url)) throw invalid('integration.url must be an http(s) URL');
}

function asAction(raw: unknown): PostAction {
  if (!isPlainObject(raw)) throw invalid('not an object');
  const action = raw as PostAction;
  for (const key of ['id', 'type', 'name', 'style', 'data_source', 'default_option', 'cookie'] as const) {
    if (action[key] !== undefined && action[key] !== null && typeof action[key] !== 'string') throw invalid(`${key} must be a string`);
  }
  if (action.options !== undefined && action.options !== null && !Array.isArray(action.options)) throw invalid('options must be a list');
  if (action.integration !== undefined && action.integration !== null && !isPlainObject(action.integration)) throw invalid('integration must be an object');
  return action;
}

/**
 * Gives each action without an id a new id (`GenerateActionIds`); given ids are kept as they are.
 * As Mattermost, an action that `PostAction.IsValid` refuses does not refuse the post: it is kept as
 * sent. Slack's link buttons (`{"type":"button","text":"Runbook","url":"https://..."}`: no name, no
 * integration), which Prometheus Alertmanager and others send, stay link buttons that clients
 * render; only an action with a valid integration can be clicked (`clickableAction`).
 */
export function prepareActions(attachments: SlackAttachment[] | null): SlackAttachment[] | null {
  for (const attachment of attachments ?? []) {
    if (!attachment.actions) continue;
    attachment.actions = attachment.actions.map((raw) => {
      if (!isPlainObject(raw)) return raw as Record<string, unknown>;
      const action: Record<string, unknown> = { ...raw };
      if (typeof action.id !== 'string' || action.id === '') action.id = newId();
      delete action.cookie;
      return action;
    });
  }
  return attachments;
}

/** The action a click names, if it is one that can be clicked: valid, with an http(s) integration. */
export function clickableAction(props: Record<string, unknown>, actionId: string): PostAction | undefined {
  const found = findAction(props, actionId);
  if (!found) return undefined;
  try {
    validateAction(asAction(found));
  } catch {
    return undefined;
  }
  return found;
}

/** The first action with this id among the post's attachments (`Post.GetAction`). */
export function findAction(props: Record<string, unknown>, actionId: string): PostAction | undefined {
  const attachments = Array.isArray(props.attachments) ? props.attachments : [];
  for (const attachment of attachments) {
    for (const action of (isPlainObject(attachment) && Array.isArray(attachment.actions) ? attachment.actions : []) as PostAction[]) {
      if (action?.id === actionId) return action;
    }
  }
  return undefined;
}

/** Props as clients may see them: no action integration (URL and context) anywhere. */
export function stripActionIntegrations(props: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(props.attachments)) return props;
  return {
    ...props,
    attachments: props.attachments.map((attachment) =>
      isPlainObject(attachment) && Array.isArray(attachment.actions)
        ? {
            ...attachment,
            actions: attachment.actions.map((action) => {
              if (!isPlainObject(action)) return action;
              const { integration: _hidden, ...visible } = action;
              return visible;
            }),
          }
        : attachment,
    ),
  };
}
