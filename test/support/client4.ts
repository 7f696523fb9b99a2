import { Client4, ClientError } from '@mattermost/client';

/** A `Client4` as a bot or the web app sets one up: the API's origin and a personal access token. */
export function client4(url: string, token: string): Client4 {
  const client = new Client4();
  client.setUrl(url);
  client.setToken(token);
  return client;
}

/** The status and Mattermost error id of a Client4 call that must fail; a success fails the test. */
export async function failure(call: Promise<unknown>): Promise<{ status: number; id: string }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    return { status: error.status_code ?? 0, id: String(error.server_error_id) };
  }
  throw new Error('the call succeeded');
}
