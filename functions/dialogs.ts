import { errors } from '../lib/errors.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { lookupDialog, openDialog, submitDialog } from '../lib/integrations/dialogs.js';
import { openDialogEvent } from '../lib/live/events.js';
import { publishToUser } from '../lib/live/live.js';
import { callerFromRequest } from '../lib/permissions.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * Interactive dialogs: `POST /api/v4/actions/dialogs/open` (no session: the signed trigger id is
 * the credential), `/submit` and `/lookup` (a user's session).
 */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'dialogs',
    async (request, rt) => {
      switch (request.routeKey) {
        case 'POST /api/v4/actions/dialogs/open': {
          const opened = await openDialog(rt, request.body);
          // Every connection of the trigger's user; nobody need be connected (Mattermost checks no more).
          await publishToUser(rt, opened.userId, openDialogEvent(opened.userId, opened.request));
          return json(200, { status: 'OK' });
        }
        case 'POST /api/v4/actions/dialogs/submit':
          return json(200, await submitDialog(rt, await callerFromRequest(rt, request), request.body));
        case 'POST /api/v4/actions/dialogs/lookup':
          return json(200, await lookupDialog(rt, await callerFromRequest(rt, request), request.body));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
