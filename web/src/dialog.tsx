import { useEffect, useRef, useState } from 'preact/hooks';
import type { Client4 } from '@mattermost/client';
import type { Channel } from '@mattermost/types/channels';
import { errorMessage } from './api.js';
import { renderMarkdown } from './markdown.js';
import type { Dialog, DialogElement, DialogOption } from '../../lib/integrations/dialog-types.js';
import { ErrorAlert } from './error-alert.js';

/**
 * Mattermost's interactive dialog as an accessible modal: every element type of the dialog model
 * (text with its subtypes, textarea, select with static options or users, channels or dynamic
 * sources, bool, radio, date, datetime). Submit sends `POST /api/v4/actions/dialogs/submit`; the
 * integration's `errors` show on their fields and its `error` above them, and keep it open.
 * It opens from the websocket's `open_dialog` event (see live.ts); `OpenDialog` is that event's data.
 */
export type { DialogElement, DialogOption } from '../../lib/integrations/dialog-types.js';

export interface OpenDialog {
  trigger_id: string;
  url: string;
  dialog: Dialog;
}

type Value = string | boolean;

const TEXT_TYPES: Record<string, 'email' | 'number' | 'password' | 'tel' | 'url'> = { email: 'email', number: 'number', password: 'password', tel: 'tel', url: 'url' };

function initialValue(element: DialogElement): Value {
  if (element.type === 'bool') return element.default === 'true';
  return element.default ?? '';
}

export function DialogModal(props: { client: Client4; open: OpenDialog; channelId: string; teamId: string; channels: Channel[]; close(): void }) {
  const { dialog } = props.open;
  const elements = (dialog.elements ?? []).filter((element): element is DialogElement => Boolean(element?.name));
  const [values, setValues] = useState<Record<string, Value>>(() => Object.fromEntries(elements.map((element) => [element.name!, initialValue(element)])));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [lookups, setLookups] = useState<Record<string, DialogOption[]>>({});
  const box = useRef<HTMLDivElement>(null);
  const opener = useRef<Element | null>(document.activeElement);

  useEffect(() => {
    // The first field takes the focus (the close button only when there is none).
    (box.current?.querySelector<HTMLElement>('input, textarea, select') ?? box.current?.querySelector<HTMLElement>('button'))?.focus();
    // Dynamic selects ask the integration for their options once, when the dialog opens.
    for (const element of elements) {
      if (element.type === 'select' && element.data_source === 'dynamic') {
        props.client
          .lookupInteractiveDialog({ url: props.open.url, callback_id: dialog.callback_id ?? '', state: dialog.state ?? '', channel_id: props.channelId, team_id: props.teamId, submission: { query: '', selected_field: element.name! } } as never)
          .then((answer: { items?: DialogOption[] }) => setLookups((current) => ({ ...current, [element.name!]: answer.items ?? [] })), () => undefined);
      }
    }
    return () => (opener.current as HTMLElement | null)?.focus?.();
  }, []);

  const base = { url: props.open.url, callback_id: dialog.callback_id ?? '', state: dialog.state ?? '', channel_id: props.channelId, team_id: props.teamId };

  const cancel = () => {
    if (dialog.notify_on_cancel) void props.client.submitInteractiveDialog({ ...base, submission: {}, cancelled: true } as never).catch(() => undefined);
    props.close();
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const missing: Record<string, string> = {};
    for (const element of elements) {
      const value = values[element.name!];
      if (!element.optional && element.type !== 'bool' && (value === '' || value === undefined)) missing[element.name!] = 'This field is required.';
      else if (typeof value === 'string' && value !== '' && element.min_length && value.length < element.min_length) missing[element.name!] = `At least ${element.min_length} characters.`;
    }
    setErrors(missing);
    setGeneral(undefined);
    if (Object.keys(missing).length) return;
    setBusy(true);
    try {
      const submission = Object.fromEntries(elements.flatMap((element) => (values[element.name!] === '' && element.optional ? [] : [[element.name!, values[element.name!]]])));
      const answer = (await props.client.submitInteractiveDialog({ ...base, submission, cancelled: false } as never)) as { error?: string; errors?: Record<string, string> };
      if (answer?.error || (answer?.errors && Object.keys(answer.errors).length)) {
        setGeneral(answer.error || undefined);
        setErrors(answer.errors ?? {});
      } else props.close();
    } catch (failure) {
      setGeneral(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  // Tab stays inside the dialog; Escape cancels it.
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      cancel();
      return;
    }
    if (event.key !== 'Tab' || !box.current) return;
    const focusable = [...box.current.querySelectorAll<HTMLElement>('input, textarea, select, button, a[href]')].filter((node) => !(node as HTMLInputElement).disabled);
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last?.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first?.focus();
    }
  };

  const set = (name: string, value: Value) => setValues((current) => ({ ...current, [name]: value }));

  return (
    <div class="modal-backdrop">
      <div class="modal" role="dialog" aria-modal="true" aria-labelledby="dialog-title" ref={box} onKeyDown={onKeyDown}>
        <form onSubmit={submit} noValidate>
          <header class="modal__header">
            <h2 id="dialog-title">{dialog.title || 'Dialog'}</h2>
            <button type="button" class="link" aria-label="Cancel" onClick={cancel}>
              ✕
            </button>
          </header>
          <div class="modal__body">
            {dialog.introduction_text ? <div class="markdown modal__intro" dangerouslySetInnerHTML={{ __html: renderMarkdown(dialog.introduction_text) }} /> : null}
            <ErrorAlert message={general} />
            {elements.map((element) => (
              <Field key={element.name} element={element} value={values[element.name!]!} error={errors[element.name!]} set={(value) => set(element.name!, value)} channels={props.channels} lookup={lookups[element.name!]} />
            ))}
          </div>
          <footer class="modal__footer">
            <button type="button" class="btn btn--default" onClick={cancel}>
              Cancel
            </button>
            <button type="submit" class="btn btn--primary" disabled={busy} aria-busy={busy}>
              {busy ? 'Submitting…' : dialog.submit_label || 'Submit'}
            </button>
          </footer>
        </form>
      </div>
    </div>
  );
}

function Field({ element, value, error, set, channels, lookup }: { element: DialogElement; value: Value; error?: string; set(value: Value): void; channels: Channel[]; lookup?: DialogOption[] }) {
  const id = `dialog-${element.name}`;
  const label = `${element.display_name || element.name}${element.optional ? ' (optional)' : ''}`;
  const described = [element.help_text ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': described, required: !element.optional };
  const text = typeof value === 'string' ? value : '';
  let control;
  if (element.type === 'textarea') {
    control = <textarea {...common} rows={4} value={text} placeholder={element.placeholder} maxLength={element.max_length || undefined} onInput={(event) => set((event.target as HTMLTextAreaElement).value)} />;
  } else if (element.type === 'bool') {
    control = <input {...common} required={false} type="checkbox" checked={value === true} onChange={(event) => set((event.target as HTMLInputElement).checked)} />;
  } else if (element.type === 'radio') {
    const options = (element.options ?? []).filter((option): option is DialogOption => Boolean(option));
    return (
      <fieldset class="field" aria-describedby={described}>
        <legend>{label}</legend>
        {options.map((option) => (
          <label key={option.value} class="field__radio">
            <input type="radio" name={id} value={option.value} checked={value === option.value} onChange={() => set(option.value)} /> {option.text}
          </label>
        ))}
        {element.help_text ? <p id={`${id}-help`} class="field__help">{element.help_text}</p> : null}
        {error ? <p id={`${id}-error`} class="error">{error}</p> : null}
      </fieldset>
    );
  } else if (element.type === 'select') {
    const options =
      element.data_source === 'channels'
        ? channels.filter((channel) => channel.type === 'O' || channel.type === 'P').map((channel) => ({ text: channel.display_name || channel.name, value: channel.id }))
        : element.data_source === 'dynamic'
          ? lookup ?? []
          : (element.options ?? []).filter((option): option is DialogOption => Boolean(option));
    control =
      element.data_source === 'users' ? (
        // No user search route yet: a user id or username, as typed.
        <input {...common} value={text} placeholder={element.placeholder || 'username'} onInput={(event) => set((event.target as HTMLInputElement).value)} />
      ) : (
        <select {...common} value={text} onChange={(event) => set((event.target as HTMLSelectElement).value)}>
          <option value="">{element.placeholder || 'Choose…'}</option>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.text}
            </option>
          ))}
        </select>
      );
  } else {
    const type = element.type === 'date' ? 'date' : element.type === 'datetime' ? 'datetime-local' : (TEXT_TYPES[element.subtype ?? ''] ?? 'text');
    // Preact types each input type separately; any of these takes a string value.
    control = <input {...common} type={type as 'text'} value={text} placeholder={element.placeholder} maxLength={element.max_length || undefined} onInput={(event) => set((event.target as HTMLInputElement).value)} />;
  }
  return (
    <div class={`field${element.type === 'bool' ? ' field--bool' : ''}`}>
      <label for={id}>{label}</label>
      {control}
      {element.help_text ? (
        <p id={`${id}-help`} class="field__help">
          {element.help_text}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} class="error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
