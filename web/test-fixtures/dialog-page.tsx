/**
 * A page with only the dialog modal, for the browser tests: the app opens dialogs from the
 * websocket's `open_dialog` event, which this stack does not have yet, so the test opens a dialog
 * through the real API and hands this page the event's data (`window.__dialogTest`).
 */
import { render } from 'preact';
import { createClient } from '../src/api.js';
import { DialogModal, type OpenDialog } from '../src/dialog.js';
import '../src/styles.css';

const test = (window as unknown as { __dialogTest: { token: string; open: OpenDialog; channelId: string; teamId: string } }).__dialogTest;
const root = document.getElementById('app')!;
render(
  <DialogModal
    client={createClient(test.token)}
    open={test.open}
    channelId={test.channelId}
    teamId={test.teamId}
    channels={[]}
    close={() => {
      document.body.dataset.closed = 'true';
      render(null, root);
    }}
  />,
  root,
);
