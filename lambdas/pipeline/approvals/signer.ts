/**
 * Approval links: `<base>/approvals/<id>?exp=<epoch seconds>[&to=<address>]&sig=<HMAC>`. The signature is
 * HMAC-SHA256 over a versioned, purpose-bound string of the id, the expiry and, for a personal link,
 * the approver's e-mail address (`to`), base64url without padding. A personal link is the only kind
 * that can decide: the page decides as the address its signature covers, so editing `to` breaks the
 * link like editing `exp` does. It makes a link unforgeable and its expiry untamperable; it carries no secret of its own,
 * and never the task token (the token stays in the record). Single use is the store's job.
 *
 * Verification order matters: a bad signature is refused before anything else is looked at, so a
 * forged or tampered link learns nothing (not even whether the id exists); only an authentic link is
 * told that it expired.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The signing keys: the current one signs, any of them verifies (so a rotation does not void links in flight). */
export interface SigningKeys {
  readonly current: Buffer;
  readonly previous: readonly Buffer[];
}

/** Where the keys come from (Secrets Manager in AWS, a local file locally). */
export interface SigningKeyProvider {
  keys(): Promise<SigningKeys>;
}

/** Shortest key accepted: 32 bytes matches HMAC-SHA256's output size. */
export const MIN_SIGNING_KEY_BYTES = 32;

/**
 * What a kind of link is for: the purpose string every signature covers (domain separation: a
 * signature made for one kind of link is never valid for another, even under the same key) and the
 * path segment its URLs live under.
 */
export interface LinkKind {
  readonly purpose: string;
  readonly pathSegment: string;
}

/** Approval links: `<base>/approvals/<id>`. */
export const APPROVAL_LINK: LinkKind = { purpose: 'sial-approval-link:v1', pathSegment: 'approvals' };

/** Judge-calibration review links: `<base>/reviews/<id>`. */
export const REVIEW_LINK: LinkKind = { purpose: 'sial-review-link:v1', pathSegment: 'reviews' };
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const EXP_PATTERN = /^[0-9]{1,12}$/;

/** The query parameters of a link (and the hidden fields of its form). */
export interface LinkParams {
  readonly exp: string;
  readonly sig: string;
  /** The approver a personal link belongs to (lower-case e-mail address); absent on a view-only link. */
  readonly to?: string;
}

/** Longest address a link may name (RFC 5321's path limit). */
export const MAX_LINK_ADDRESS_CHARS = 254;
const ADDRESS_PATTERN = /^[^\s@]+@[^\s@]+$/;

/** The address as links carry it: trimmed and lower-cased, so one person has one spelling. */
export function linkAddress(email: string): string {
  const address = email.trim().toLowerCase();
  if (address.length > MAX_LINK_ADDRESS_CHARS || !ADDRESS_PATTERN.test(address)) throw new Error(`Cannot sign a link for ${JSON.stringify(email)}: not an e-mail address`);
  return address;
}

export type LinkCheck = { readonly ok: true; readonly expiresAt: Date; readonly to?: string } | { readonly ok: false; readonly reason: 'forged' | 'expired'; readonly expiresAt?: Date };

function hmac(key: Buffer, purpose: string, approvalId: string, exp: string, to: string | undefined): Buffer {
  // A personal link signs a different purpose (`:to`) as well as the address, so a view-only
  // signature can never be turned into a personal one by adding `to`, nor the reverse.
  const text = to === undefined ? `${purpose}\n${approvalId}\n${exp}` : `${purpose}:to\n${approvalId}\n${exp}\n${to}`;
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** Whole seconds: the link carries seconds, so the record's expiry is truncated to match it exactly. */
export function linkExpiry(expiresAt: Date): string {
  return String(Math.floor(expiresAt.getTime() / 1000));
}

/** Signs and verifies approval links (or another {@link LinkKind}) with keys from a {@link SigningKeyProvider}. */
export class ApprovalLinkSigner {
  constructor(
    private readonly keyProvider: SigningKeyProvider,
    private readonly kind: LinkKind = APPROVAL_LINK,
  ) {}

  /**
   * The query parameters for a link to `approvalId` that stops working at `expiresAt`; with `to`, a
   * personal link of that approver (see {@link linkAddress}).
   */
  async sign(approvalId: string, expiresAt: Date, to?: string): Promise<LinkParams> {
    const { current } = await this.keyProvider.keys();
    const exp = linkExpiry(expiresAt);
    const address = to === undefined ? undefined : linkAddress(to);
    return { exp, ...(address !== undefined ? { to: address } : {}), sig: hmac(current, this.kind.purpose, approvalId, exp, address).toString('base64url') };
  }

  /** The full link: `<base>/<path segment>/<id>?exp=..[&to=..]&sig=..`. */
  async url(pageBaseUrl: string, approvalId: string, expiresAt: Date, to?: string): Promise<string> {
    const params = await this.sign(approvalId, expiresAt, to);
    const base = pageBaseUrl.replace(/\/+$/, '');
    const address = params.to === undefined ? '' : `&to=${encodeURIComponent(params.to)}`;
    return `${base}/${this.kind.pathSegment}/${encodeURIComponent(approvalId)}?exp=${params.exp}${address}&sig=${params.sig}`;
  }

  /**
   * Checks a link's parameters: `forged` for a missing, malformed or wrong signature (or a tampered
   * expiry, which breaks the signature), `expired` for an authentic link at or past its expiry.
   * Every key is compared, in constant time, so timing reveals neither the key nor which key matched.
   */
  async verify(approvalId: string, params: Partial<LinkParams>, now: Date): Promise<LinkCheck> {
    const { exp, sig, to } = params;
    if (exp === undefined || sig === undefined || !EXP_PATTERN.test(exp) || !SIGNATURE_PATTERN.test(sig)) return { ok: false, reason: 'forged' };
    // An empty `to` is no address (a view-only link); anything else must be one, exactly as signed.
    const address = to === undefined || to === '' ? undefined : to;
    if (address !== undefined && (address.length > MAX_LINK_ADDRESS_CHARS || !ADDRESS_PATTERN.test(address))) return { ok: false, reason: 'forged' };
    // Compared as text, not decoded bytes: the last base64url character carries two spare bits, and
    // decoding would accept four spellings of one signature. Both sides are 43 ASCII bytes.
    const given = Buffer.from(sig, 'ascii');
    const { current, previous } = await this.keyProvider.keys();
    let match = false;
    for (const key of [current, ...previous]) {
      const expected = Buffer.from(hmac(key, this.kind.purpose, approvalId, exp, address).toString('base64url'), 'ascii');
      // No early exit: every key is compared whatever matched before.
      match = timingSafeEqual(given, expected) || match;
    }
    if (!match) return { ok: false, reason: 'forged' };
    const expiresAt = new Date(Number(exp) * 1000);
    if (now.getTime() >= expiresAt.getTime()) return { ok: false, reason: 'expired', expiresAt };
    return { ok: true, expiresAt, ...(address !== undefined ? { to: address } : {}) };
  }
}

/** Checks a key's length; a short key is a configuration error, not something to sign with. */
export function checkSigningKey(key: Buffer, where: string): Buffer {
  if (key.length < MIN_SIGNING_KEY_BYTES) throw new Error(`The approval signing key in ${where} is ${key.length} bytes; at least ${MIN_SIGNING_KEY_BYTES} are required`);
  return key;
}
