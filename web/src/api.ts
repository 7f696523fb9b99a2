import { Client4 } from '@mattermost/client';

/** A `Client4` on the page's own origin (the API is served from it), signed in with `token`. */
export function createClient(token: string): Client4 {
  const client = new Client4();
  client.setUrl(window.location.origin);
  client.setToken(token);
  // A token, not a session cookie: no cookies to send, no CSRF header to add.
  client.setIncludeCookies(false);
  return client;
}

/** What to show when the API refuses: Mattermost's error JSON `message`, or why the call failed. */
export function errorMessage(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string' && error.message) return error.message;
  return 'Something went wrong. Try again.';
}

/** The HTTP status of a failed Client4 call (0 when the network failed). */
export function errorStatus(error: unknown): number {
  if (error && typeof error === 'object' && 'status_code' in error && typeof error.status_code === 'number') return error.status_code;
  return 0;
}
