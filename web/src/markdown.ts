import { Marked } from 'marked';
import DOMPurify from 'dompurify';
import { emojify } from './emoji.js';

/**
 * Posts' markdown as Mattermost shows it: GitHub-flavoured, single newlines kept, raw HTML shown
 * as text (Mattermost never renders a post's HTML). The output then goes through DOMPurify, which
 * keeps only harmless elements and http(s), mailto and same-origin links, so nothing a post
 * carries can run script, whatever the markdown library lets through.
 */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html: ({ text }) => escapeHtml(text),
  },
});

const SAFE_URL = /^(?:https?:|mailto:|#|\/(?!\/))/i;

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

const PURIFY_OPTIONS = {
  ALLOWED_URI_REGEXP: SAFE_URL,
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math'],
  FORBID_ATTR: ['style', 'class', 'id'],
};

export function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(marked.parse(emojify(text)) as string, PURIFY_OPTIONS);
}

/** One line of markdown (attachment footers, titles): no paragraphs around it. */
export function renderInlineMarkdown(text: string): string {
  return DOMPurify.sanitize(marked.parseInline(emojify(text)) as string, PURIFY_OPTIONS);
}

/** A URL a post gives for a link, an image or an icon, if it is http(s); else nothing. */
export function safeUrl(url: unknown): string | undefined {
  if (typeof url !== 'string' || url === '') return undefined;
  try {
    const parsed = new URL(url, window.location.origin);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}
