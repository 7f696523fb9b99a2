/**
 * Mattermost's interactive dialog model (`model/integration_action.go`: `Dialog`, `DialogElement`,
 * `OpenDialogRequest.IsValid`, `SubmitDialogResponse.IsValid`, `IsValidLookupURL`). Opening a
 * dialog never fails on these rules: Mattermost logs them as warnings and sends the dialog anyway,
 * so `dialogProblems` lists them for the log. Lengths are bytes of UTF-8, as Go's `len`.
 */
import type { Dialog, DialogElement } from './dialog-types.js';
import { byteLength, isValidHttpUrl } from '../validation.js';

export type { Dialog, DialogElement, DialogOption } from './dialog-types.js';

export const DIALOG_TITLE_MAX_BYTES = 24;
const ELEMENT_DISPLAY_NAME_MAX_BYTES = 24;
const ELEMENT_NAME_MAX_BYTES = 300;
const ELEMENT_HELP_TEXT_MAX_BYTES = 150;
const ELEMENT_TEXT_MAX_BYTES = 150;
const ELEMENT_TEXTAREA_MAX_BYTES = 3000;
const TEXT_SUBTYPES = new Set(['', 'text', 'email', 'number', 'tel', 'url', 'password']);
const SELECT_DATA_SOURCES = new Set(['', 'users', 'channels', 'dynamic']);
const RELATIVE_DATE = /^(today|tomorrow|yesterday|[+-]\d{1,3}[dwmh])$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?$/;

const ELEMENT_STRING_FIELDS = ['display_name', 'name', 'type', 'subtype', 'default', 'placeholder', 'help_text', 'data_source', 'data_source_url', 'min_date', 'max_date'] as const;
const ELEMENT_NUMBER_FIELDS = ['min_length', 'max_length', 'time_interval'] as const;

/** An object whose fields have the model's types (the checks below read them as such). */
function isDialogElement(value: unknown): value is DialogElement {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const element = value as Record<string, unknown>;
  if (ELEMENT_STRING_FIELDS.some((field) => element[field] !== undefined && typeof element[field] !== 'string')) return false;
  if (ELEMENT_NUMBER_FIELDS.some((field) => element[field] !== undefined && typeof element[field] !== 'number')) return false;
  return element.options === undefined || element.options === null || Array.isArray(element.options);
}

/** `IsValidLookupURL`: an http(s) URL, or a plugin path without `..` or `//`. */
export function isValidLookupUrl(url: string): boolean {
  if (url.startsWith('/plugins/')) return !url.includes('..') && !url.includes('//');
  return isValidHttpUrl(url);
}

function optionValues(element: DialogElement): Set<string> {
  return new Set((element.options ?? []).flatMap((option) => (option && typeof option.value === 'string' ? [option.value] : [])));
}

function elementProblems(element: DialogElement, index: number): string[] {
  const problems: string[] = [];
  const at = `elements[${index}] (${element.name ?? ''})`;
  const tooLong = (field: keyof DialogElement, max: number) => {
    const value = element[field];
    if (typeof value === 'string' && byteLength(value) > max) problems.push(`${at}: ${field} longer than ${max} bytes`);
  };
  const minLength = element.min_length ?? 0;
  const maxLength = element.max_length ?? 0;
  if (minLength < 0) problems.push(`${at}: min_length below 0`);
  if (minLength > maxLength) problems.push(`${at}: min_length above max_length`);
  if (!element.display_name) problems.push(`${at}: display_name is empty`);
  tooLong('display_name', ELEMENT_DISPLAY_NAME_MAX_BYTES);
  if (!element.name) problems.push(`${at}: name is empty`);
  tooLong('name', ELEMENT_NAME_MAX_BYTES);
  tooLong('help_text', ELEMENT_HELP_TEXT_MAX_BYTES);
  if (element.multiselect && element.type !== 'select') problems.push(`${at}: multiselect only applies to select`);
  const values = optionValues(element);
  switch (element.type) {
    case 'text':
    case 'textarea': {
      const max = element.type === 'text' ? ELEMENT_TEXT_MAX_BYTES : ELEMENT_TEXTAREA_MAX_BYTES;
      tooLong('default', max);
      tooLong('placeholder', max);
      if (!TEXT_SUBTYPES.has(element.subtype ?? '')) problems.push(`${at}: invalid subtype "${element.subtype}"`);
      break;
    }
    case 'select': {
      tooLong('default', ELEMENT_TEXTAREA_MAX_BYTES);
      tooLong('placeholder', ELEMENT_TEXTAREA_MAX_BYTES);
      const source = element.data_source ?? '';
      if (!SELECT_DATA_SOURCES.has(source)) problems.push(`${at}: invalid data_source "${source}"`);
      if (source === 'dynamic') {
        if (!isValidLookupUrl(element.data_source_url ?? '')) problems.push(`${at}: dynamic select needs a valid data_source_url`);
        if ((element.options ?? []).length > 0) problems.push(`${at}: dynamic select cannot have static options`);
      } else if (source === '' && element.default) {
        const defaults = element.multiselect ? element.default.replace(/\s+/g, '').split(',') : [element.default];
        for (const value of defaults) if (!values.has(value)) problems.push(`${at}: default "${value}" doesn't exist in options`);
      }
      break;
    }
    case 'bool':
      if (!['', 'true', 'false'].includes(element.default ?? '')) problems.push(`${at}: bool default must be true or false`);
      tooLong('placeholder', ELEMENT_TEXT_MAX_BYTES);
      break;
    case 'radio':
      if (element.default && !values.has(element.default)) problems.push(`${at}: default "${element.default}" doesn't exist in options`);
      break;
    case 'date':
    case 'datetime': {
      tooLong('default', ELEMENT_TEXT_MAX_BYTES);
      tooLong('placeholder', ELEMENT_TEXT_MAX_BYTES);
      for (const field of ['default', 'min_date', 'max_date'] as const) {
        const value = element[field];
        if (!value) continue;
        const fullDatetime = ISO_DATETIME.test(value);
        if (!ISO_DATE.test(value) && !RELATIVE_DATE.test(value) && !(element.type === 'datetime' && fullDatetime)) {
          problems.push(`${at}: ${field} "${value}" is not a date`);
        }
      }
      if (element.type === 'datetime') {
        const interval = element.time_interval ?? 0;
        if (interval < 1 || interval > 1440 || 1440 % interval !== 0) problems.push(`${at}: time_interval must divide 1440 minutes`);
      }
      break;
    }
    default:
      problems.push(`${at}: invalid element type "${element.type ?? ''}"`);
  }
  return problems;
}

/**
 * `OpenDialogRequest.IsValid` (and `Dialog.IsValid`), every problem found, for the warning log.
 * Malformed shapes (elements that are not objects) count as problems, never as crashes.
 */
export function dialogProblems(request: { url?: unknown; trigger_id?: unknown; dialog?: Dialog }): string[] {
  const problems: string[] = [];
  if (!request.url) problems.push('url is empty');
  if (!request.trigger_id) problems.push('trigger_id is empty');
  const dialog: Dialog = request.dialog !== null && typeof request.dialog === 'object' ? request.dialog : {};
  if (typeof dialog.title !== 'string' || dialog.title === '') problems.push('title is empty');
  else if (byteLength(dialog.title) > DIALOG_TITLE_MAX_BYTES) problems.push(`title longer than ${DIALOG_TITLE_MAX_BYTES} bytes`);
  if (dialog.icon_url && (typeof dialog.icon_url !== 'string' || !isValidHttpUrl(dialog.icon_url))) problems.push('icon_url is not an http(s) URL');
  const seen = new Set<string>();
  const elements: unknown[] = Array.isArray(dialog.elements) ? dialog.elements : [];
  for (const [index, element] of elements.entries()) {
    if (!isDialogElement(element)) {
      problems.push(`elements[${index}]: not a dialog element`);
      continue;
    }
    if (element.name !== undefined && seen.has(element.name)) problems.push(`elements[${index}]: duplicate dialog element "${element.name}"`);
    if (element.name !== undefined) seen.add(element.name);
    problems.push(...elementProblems(element, index));
  }
  return problems;
}

export interface SubmitDialogResponse {
  error?: string;
  errors?: Record<string, string>;
  type?: string;
  form?: Dialog;
}

/** `SubmitDialogResponse.IsValid`: an error makes any answer valid; otherwise only `ok`, `navigate`, or a `form` with one. */
export function isValidSubmitResponse(response: SubmitDialogResponse): boolean {
  if (response.error || (response.errors && Object.keys(response.errors).length > 0)) return true;
  const type = response.type ?? '';
  if (type === '' || type === 'ok' || type === 'navigate') return response.form === undefined;
  if (type === 'form') return response.form !== undefined;
  return false;
}
