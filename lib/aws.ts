/**
 * Client settings for a local emulator: its endpoint and any non-empty credentials. In AWS the
 * endpoint is unset and the function role's credentials apply.
 */
export function localEndpoint(endpoint: string | undefined) {
  return endpoint
    ? {
        endpoint,
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'local',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'local',
        },
      }
    : {};
}
