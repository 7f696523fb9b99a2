/**
 * Listens on a port the local stack chose before (the SQS endpoint its stored queue URLs name, the
 * API port given by PORT). After a kill -9 and restart, that port can be held for a moment by a
 * socket of another process on the machine (a client's ephemeral port): the listen is retried for
 * a few seconds before the error is thrown. Port 0 (any free port) needs no retry.
 */
import type { Server } from 'node:http';

const RETRY_DELAY_MS = 250;
const MAX_ATTEMPTS = 40;

export async function listenOn(server: Server, port: number, host: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        // Each attempt removes its own listeners, whichever way it ends, so retries add none.
        const onError = (error: Error) => {
          server.off('listening', onListening);
          reject(error);
        };
        const onListening = () => {
          server.off('error', onError);
          resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
      });
      return;
    } catch (error) {
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!inUse || port === 0 || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }
}
