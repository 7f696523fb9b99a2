import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { dialogProblems, isValidLookupUrl, isValidSubmitResponse, type Dialog, type DialogElement } from '../../lib/integrations/dialog.js';
import { generateTriggerId, verifyTriggerId } from '../../lib/integrations/trigger-id.js';

const SECRET = 'action-signing-secret-for-tests';
const NOW_MS = 1_800_000_000_000;
const LIFETIME_MS = 30_000;
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function refusal(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).statusCode).toBe(400);
    return (error as AppError).id.replace('interactive_message.decode_trigger_id.', '');
  }
  throw new Error('the trigger id was accepted');
}

describe('trigger ids', () => {
  it('a fresh trigger id gives back its client id and user; the shape is base64 of four parts on ":"', () => {
    const { clientTriggerId, triggerId } = generateTriggerId(SECRET, 'user1', NOW_MS);
    expect(clientTriggerId).toMatch(/^[a-z0-9]{26}$/);
    const parts = Buffer.from(triggerId, 'base64').toString('utf8').split(':');
    expect(parts.slice(0, 3)).toEqual([clientTriggerId, 'user1', String(NOW_MS)]);
    expect(parts).toHaveLength(4);
    expect(verifyTriggerId(SECRET, triggerId, NOW_MS + 29_000, LIFETIME_MS)).toEqual({ clientTriggerId, userId: 'user1' });
    // Not single-use: it verifies again within its lifetime.
    expect(verifyTriggerId(SECRET, triggerId, NOW_MS + 29_999, LIFETIME_MS).userId).toBe('user1');
  });

  it('refuses as Mattermost does, in its order (DG-06, DG-07)', () => {
    expect(refusal(() => verifyTriggerId(SECRET, 'junk!', NOW_MS, LIFETIME_MS))).toBe('base64_decode_failed');
    expect(refusal(() => verifyTriggerId(SECRET, b64('junk!'), NOW_MS, LIFETIME_MS))).toBe('missing_data');
    expect(refusal(() => verifyTriggerId(SECRET, '', NOW_MS, LIFETIME_MS))).toBe('missing_data');
    expect(refusal(() => verifyTriggerId(SECRET, b64('some-trigger-id:some-user-id:1234567890:junksignature'), NOW_MS, LIFETIME_MS))).toBe('expired');
    // A timestamp in the future never expires, so the signature is what fails.
    expect(refusal(() => verifyTriggerId(SECRET, b64('some-trigger-id:some-user-id:12345678900000:junk!'), NOW_MS, LIFETIME_MS))).toBe('base64_decode_failed_signature');
    expect(refusal(() => verifyTriggerId(SECRET, b64('some-trigger-id:some-user-id:12345678900000:junk'), NOW_MS, LIFETIME_MS))).toBe('signature_decode_failed');
    const other = generateTriggerId('another deployment', 'user1', NOW_MS).triggerId;
    expect(refusal(() => verifyTriggerId(SECRET, other, NOW_MS, LIFETIME_MS))).toBe('verify_signature_failed');
    const { triggerId } = generateTriggerId(SECRET, 'user1', NOW_MS);
    expect(refusal(() => verifyTriggerId(SECRET, triggerId, NOW_MS + 2000, 1000))).toBe('expired');
  });

  it('binds the user: changing the user (or any part) breaks the signature', () => {
    const { clientTriggerId, triggerId } = generateTriggerId(SECRET, 'user1', NOW_MS);
    const signature = Buffer.from(triggerId, 'base64').toString('utf8').split(':')[3]!;
    const forged = b64(`${clientTriggerId}:user2:${NOW_MS}:${signature}`);
    expect(refusal(() => verifyTriggerId(SECRET, forged, NOW_MS, LIFETIME_MS))).toBe('verify_signature_failed');
  });

  it('no input makes verification throw anything but a 400 AppError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String(), fc.string().map(b64)), (input) => {
        try {
          verifyTriggerId(SECRET, input, NOW_MS, LIFETIME_MS);
        } catch (error) {
          return error instanceof AppError && error.statusCode === 400;
        }
        return false;
      }),
    );
  });
});

const element = (overrides: DialogElement): DialogElement => ({ display_name: 'Element Name', name: 'element_name', type: 'text', ...overrides });
const problemsOf = (dialog: Dialog) => dialogProblems({ url: 'http://localhost:8065', trigger_id: 'x', dialog: { title: 'Some Title', ...dialog } });

describe('dialog model (warnings only)', () => {
  it('a well-formed dialog has no problems (DG-01, DG-03, DG-05)', () => {
    expect(problemsOf({ callback_id: 'id', elements: [element({ placeholder: 'Enter a value' })], submit_label: 'Submit', state: 's' })).toEqual([]);
    expect(problemsOf({ introduction_text: '**Some** _introduction text', elements: null })).toEqual([]);
    expect(problemsOf({ elements: [] })).toEqual([]);
  });

  it('lists each of Mattermost\'s problems (DG-04, DG-18)', () => {
    expect(dialogProblems({ dialog: {} })).toEqual(['url is empty', 'trigger_id is empty', 'title is empty']);
    expect(problemsOf({ title: 'x'.repeat(26), elements: [element({ subtype: 'wrong SubType' })] })).toEqual([
      'title longer than 24 bytes',
      'elements[0] (element_name): invalid subtype "wrong SubType"',
    ]);
    expect(problemsOf({ icon_url: 'wrong url' })).toEqual(['icon_url is not an http(s) URL']);
    expect(problemsOf({ elements: [element({ display_name: 'Very very long Element Name' })] })).toEqual([
      'elements[0] (element_name): display_name longer than 24 bytes',
    ]);
    expect(problemsOf({ elements: [element({}), element({})] })).toEqual(['elements[1]: duplicate dialog element "element_name"']);
    expect(problemsOf({ elements: [element({ min_length: 10, max_length: 9 })] })).toEqual(['elements[0] (element_name): min_length above max_length']);
    expect(problemsOf({ elements: [element({ type: 'wrong type' })] })).toEqual(['elements[0] (element_name): invalid element type "wrong type"']);
    expect(problemsOf({ elements: [element({ type: 'bool', default: 'wrong default' })] })).toHaveLength(1);
    expect(problemsOf({ elements: [element({ type: 'bool', default: 'true' })] })).toEqual([]);
    expect(problemsOf({ elements: [element({ type: 'select', data_source: 'wrong DataSource' })] })).toHaveLength(1);
    expect(problemsOf({ elements: [element({ type: 'select', default: 'default', options: [null] })] })).toEqual([
      'elements[0] (element_name): default "default" doesn\'t exist in options',
    ]);
    const options = [{ text: 'One', value: 'one' }];
    expect(problemsOf({ elements: [element({ type: 'radio', default: 'two', options })] })).toHaveLength(1);
    expect(problemsOf({ elements: [element({ type: 'radio', default: 'one', options })] })).toEqual([]);
    expect(problemsOf({ elements: [element({ placeholder: 'p'.repeat(151) })] })).toHaveLength(1);
    const dynamic = (overrides: DialogElement) => problemsOf({ elements: [element({ type: 'select', data_source: 'dynamic', ...overrides })] });
    expect(dynamic({})).toHaveLength(1);
    expect(dynamic({ data_source_url: 'not-a-valid-url' })).toHaveLength(1);
    expect(dynamic({ data_source_url: 'https://example.com/options' })).toEqual([]);
    expect(dynamic({ data_source_url: '/plugins/myplugin/api/options' })).toEqual([]);
    expect(dynamic({ data_source_url: 'https://example.com/options', options })).toHaveLength(1);
    expect(problemsOf({ elements: [element({ multiselect: true })] })).toEqual(['elements[0] (element_name): multiselect only applies to select']);
    expect(problemsOf({ elements: [element({ type: 'radio', multiselect: true })] })).toHaveLength(1);
  });

  it('never throws on malformed shapes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ title: fc.anything(), icon_url: fc.anything(), elements: fc.oneof(fc.anything(), fc.array(fc.anything()), fc.array(fc.dictionary(fc.constantFrom('name', 'type', 'default', 'options', 'min_length', 'multiselect', 'data_source'), fc.anything()))) })), (dialog) => {
        expect(Array.isArray(dialogProblems({ url: 'u', trigger_id: 't', dialog: dialog as Dialog }))).toBe(true);
      }),
    );
  });

  it('lookup URLs (DG-19)', () => {
    for (const url of ['https://example.com/api/lookup', 'http://example.com/api/lookup', '/plugins/myplugin/lookup', 'https://localhost:8080/api/lookup', 'http://127.0.0.1:8080/api/lookup']) {
      expect(isValidLookupUrl(url), url).toBe(true);
    }
    for (const url of ['', '/plugins/../../../etc/passwd', '/plugins//myplugin/lookup', 'ftp://example.com/lookup', 'relative/path', 'not-a-url']) {
      expect(isValidLookupUrl(url), url).toBe(false);
    }
  });

  it('submit responses (DG-17)', () => {
    expect(isValidSubmitResponse({ type: 'form' })).toBe(false);
    expect(isValidSubmitResponse({ type: 'ok', form: { title: 'x' } })).toBe(false);
    expect(isValidSubmitResponse({ type: 'bogus' })).toBe(false);
    expect(isValidSubmitResponse({ error: 'x', type: 'bogus' })).toBe(true);
    expect(isValidSubmitResponse({})).toBe(true);
    expect(isValidSubmitResponse({ type: 'form', form: { title: 'Next' } })).toBe(true);
  });
});
