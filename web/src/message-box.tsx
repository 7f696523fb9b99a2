import { useEffect, useRef, useState } from 'preact/hooks';
import type { Command } from '@mattermost/types/integrations';
import { ErrorAlert } from './error-alert.js';

/**
 * The message box: Enter sends (Shift+Enter is a new line). A message starting with `/` runs a
 * slash command; typing `/` lists the team's commands (trigger, hint, description) as a listbox
 * driven by the arrow keys, Tab or Enter to pick, Escape to close.
 */
export interface MessageBoxProps {
  label: string;
  placeholder: string;
  /** The team's commands with autocomplete on, loaded on first use. */
  loadCommands(): Promise<Command[]>;
  send(message: string): Promise<void>;
  runCommand(command: string): Promise<void>;
  autoFocus?: boolean;
}

let boxes = 0;

export function MessageBox({ label, placeholder, loadCommands, send, runCommand, autoFocus }: MessageBoxProps) {
  const [id] = useState(() => `message-box-${++boxes}`);
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [commands, setCommands] = useState<Command[] | undefined>();
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (autoFocus) input.current?.focus();
  }, [autoFocus]);

  const typingTrigger = /^\/\S*$/.test(text);
  useEffect(() => {
    if (typingTrigger && commands === undefined) {
      setCommands([]);
      loadCommands().then(setCommands, () => setCommands([]));
    }
  }, [typingTrigger]);
  const prefix = text.slice(1).toLowerCase();
  // Sorted by trigger, as Mattermost's webapp sorts them: the API lists built-ins first, then custom commands.
  const suggestions =
    typingTrigger && !dismissed
      ? (commands ?? []).filter((command) => command.trigger.startsWith(prefix)).sort((a, b) => a.trigger.localeCompare(b.trigger))
      : [];
  const open = suggestions.length > 0;
  const activeIndex = Math.min(active, Math.max(suggestions.length - 1, 0));

  const pick = (command: Command) => {
    setText(`/${command.trigger} `);
    setActive(0);
    input.current?.focus();
  };

  const submit = async () => {
    const message = text.trim();
    if (!message || sending) return;
    setSending(true);
    setError(undefined);
    try {
      if (message.startsWith('/')) await runCommand(message);
      else await send(message);
      setText('');
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setSending(false);
      input.current?.focus();
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (open) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setActive((activeIndex + step + suggestions.length) % suggestions.length);
        return;
      }
      if (event.key === 'Tab' || (event.key === 'Enter' && !event.shiftKey)) {
        event.preventDefault();
        pick(suggestions[activeIndex]!);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setDismissed(true);
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void submit();
    }
  };

  const listId = `${id}-commands`;
  return (
    <form
      class="message-box"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      {open ? (
        <ul class="autocomplete" id={listId} role="listbox" aria-label="Slash commands">
          {suggestions.map((command, index) => (
            <li
              key={command.trigger}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === activeIndex}
              class={index === activeIndex ? 'autocomplete__item autocomplete__item--active' : 'autocomplete__item'}
              onMouseDown={(event) => {
                event.preventDefault();
                pick(command);
              }}
            >
              <span class="autocomplete__trigger">
                /{command.trigger} {command.auto_complete_hint ? <span class="autocomplete__hint">{command.auto_complete_hint}</span> : null}
              </span>
              {command.auto_complete_desc ? <span class="autocomplete__desc">{command.auto_complete_desc}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
      <label for={id} class="visually-hidden">
        {label}
      </label>
      <div class="message-box__row">
        <textarea
          id={id}
          ref={input}
          rows={1}
          value={text}
          placeholder={placeholder}
          // ARIA 1.2's combobox on the text field that owns the listbox (Preact types allow only textbox here).
          {...({ role: 'combobox' } as object)}
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? `${listId}-${activeIndex}` : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          onInput={(event) => {
            setText((event.target as HTMLTextAreaElement).value);
            setDismissed(false);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
        />
        <button type="submit" class="btn btn--primary" disabled={sending || !text.trim()} aria-busy={sending}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </div>
      <ErrorAlert message={error} id={`${id}-error`} />
    </form>
  );
}
