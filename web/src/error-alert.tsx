/**
 * A message the user must notice (a refusal, a failed load), announced at once by screen readers
 * (`role="alert"`); nothing while there is none. `inline` for one inside a line of controls.
 */
export function ErrorAlert(props: { message: string | undefined; id?: string; inline?: boolean }) {
  if (!props.message) return null;
  const Tag = props.inline ? 'span' : 'p';
  return (
    <Tag class="error" id={props.id} role="alert">
      {props.message}
    </Tag>
  );
}
