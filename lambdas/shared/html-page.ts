/**
 * What every server-rendered page of the project shares (the approval page, the review page): HTML
 * escaping, a Content-Security-Policy that allows nothing but the page's one inline style (by its
 * hash) and forms posting back to the same origin, the response headers that keep signed links out of
 * caches, Referer headers and search indexes, and the document frame.
 */
import { createHash } from 'node:crypto';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The CSP of a page whose only style is `style`: no script, no loads, forms to this origin, no framing. */
export function contentSecurityPolicy(style: string): string {
  return [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(style, 'utf8').digest('base64')}'`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * Headers of every response of a page with this CSP. `no-store` keeps signed links' pages out of
 * caches, `no-referrer` keeps the signed URL out of Referer headers, and the robots header keeps a link
 * that leaked into a crawler out of an index.
 */
export function pageHeaders(csp: string): Readonly<Record<string, string>> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-robots-tag': 'noindex, nofollow',
    'cross-origin-opener-policy': 'same-origin',
    'strict-transport-security': 'max-age=31536000',
  };
}

/** The document around `body` (already HTML); `style` must be the one the CSP was made for. */
export function htmlDocument(title: string, style: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${style}</style>`,
    `</head><body><main>${body}</main></body></html>`,
  ].join('\n');
}
