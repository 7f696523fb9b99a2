import type { Logger } from '@aws-lambda-powertools/logger';

/**
 * A request's view of the shared logger: every line carries the request's keys (request id, hook
 * id, ...). Keys travel with each call instead of through Powertools' `createChild`, which builds
 * a whole logger per request (measured: about a tenth of the handler's CPU), and instead of
 * `appendKeys`, which would mix keys when one process serves requests concurrently (locally).
 */
export interface RequestLog {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown> | Error): void;
  with(keys: Record<string, unknown>): RequestLog;
}

export function requestLog(logger: Logger, keys: Record<string, unknown>): RequestLog {
  const merge = (extra?: Record<string, unknown>) => (extra ? { ...keys, ...extra } : keys);
  // Powertools reads the environment on every call, even below its level; skip debug lines early.
  const debugEnabled = logger.getLevelName() === 'DEBUG' || logger.getLevelName() === 'TRACE';
  return {
    debug: (message, extra) => {
      if (debugEnabled) logger.debug(message, merge(extra));
    },
    info: (message, extra) => logger.info(message, merge(extra)),
    warn: (message, extra) => logger.warn(message, merge(extra)),
    error: (message, extra) =>
      extra instanceof Error ? logger.error(message, { ...keys, error: extra }) : logger.error(message, merge(extra)),
    with: (more) => requestLog(logger, { ...keys, ...more }),
  };
}
