import { ApprovalLinkSigner, checkSigningKey, linkExpiry } from '../../../lambdas/pipeline/approvals/signer';
import { FixedKeys, SIGNING_KEY, T0, linkParams, signer } from './helpers';

const EXPIRES = new Date(T0.getTime() + 72 * 3_600_000);
const BASE = 'https://approvals.example.com/prod/';

describe('approval link signer', () => {
  it('builds <base>/approvals/<id>?exp&sig and verifies its own link until the expiry', async () => {
    const s = signer();
    const url = await s.url(BASE, 'train-0011223344556677', EXPIRES);
    expect(url).toMatch(/^https:\/\/approvals\.example\.com\/prod\/approvals\/train-0011223344556677\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
    const { exp, sig } = linkParams(url);
    expect(exp).toBe(linkExpiry(EXPIRES));
    await expect(s.verify('train-0011223344556677', { exp, sig }, T0)).resolves.toEqual({ ok: true, expiresAt: EXPIRES });
    await expect(s.verify('train-0011223344556677', { exp, sig }, new Date(EXPIRES.getTime() - 1))).resolves.toMatchObject({ ok: true });
  });

  it('a personal link names its approver (lower-cased) in `to`, inside the signature', async () => {
    const s = signer();
    const url = await s.url(BASE, 'train-a', EXPIRES, '  Jane.Doe@Example.com ');
    expect(url).toMatch(/\/approvals\/train-a\?exp=\d+&to=jane\.doe%40example\.com&sig=[A-Za-z0-9_-]{43}$/);
    const link = linkParams(url);
    expect(link.to).toBe('jane.doe@example.com');
    await expect(s.verify('train-a', link, T0)).resolves.toEqual({ ok: true, expiresAt: EXPIRES, to: 'jane.doe@example.com' });
  });

  it('a tampered, added or removed address is forged: a signature covers exactly one approver (or none)', async () => {
    const s = signer();
    const personal = await s.sign('train-a', EXPIRES, 'jane@example.com');
    const viewOnly = await s.sign('train-a', EXPIRES);
    const forged = { ok: false, reason: 'forged' };
    await expect(s.verify('train-a', { ...personal, to: 'mallory@example.com' }, T0)).resolves.toEqual(forged);
    await expect(s.verify('train-a', { ...personal, to: 'JANE@example.com' }, T0)).resolves.toEqual(forged);
    await expect(s.verify('train-a', { exp: personal.exp, sig: personal.sig }, T0)).resolves.toEqual(forged);
    await expect(s.verify('train-a', { ...viewOnly, to: 'jane@example.com' }, T0)).resolves.toEqual(forged);
    await expect(s.verify('train-a', { ...personal, to: 'jane@example.com\nx' }, T0)).resolves.toEqual(forged);
    // A view-only link verifies without an address (an empty `to` field is no address).
    await expect(s.verify('train-a', { ...viewOnly, to: '' }, T0)).resolves.toEqual({ ok: true, expiresAt: EXPIRES });
  });

  it('refuses to sign a link for something that is not an address', async () => {
    await expect(signer().sign('train-a', EXPIRES, 'not an address')).rejects.toThrow('not an e-mail address');
    await expect(signer().sign('train-a', EXPIRES, `${'a'.repeat(250)}@example.com`)).rejects.toThrow('not an e-mail address');
  });

  it('reads an authentic link at or after its expiry as expired', async () => {
    const s = signer();
    const link = await s.sign('train-a', EXPIRES);
    await expect(s.verify('train-a', link, EXPIRES)).resolves.toEqual({ ok: false, reason: 'expired', expiresAt: EXPIRES });
  });

  it('refuses a tampered expiry as forged, even one that moves it later', async () => {
    const s = signer();
    const link = await s.sign('train-a', EXPIRES);
    const later = String(Number(link.exp) + 86_400);
    await expect(s.verify('train-a', { exp: later, sig: link.sig }, T0)).resolves.toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a signature for another id, another key, or a malformed one as forged', async () => {
    const s = signer();
    const link = await s.sign('train-a', EXPIRES);
    await expect(s.verify('train-b', link, T0)).resolves.toEqual({ ok: false, reason: 'forged' });
    const other = new ApprovalLinkSigner(new FixedKeys({ current: Buffer.alloc(32, 7), previous: [] }));
    await expect(other.verify('train-a', link, T0)).resolves.toEqual({ ok: false, reason: 'forged' });
    for (const sig of ['', 'short', `${link.sig}A`, link.sig.replace(/.$/, '+'), undefined]) {
      await expect(s.verify('train-a', { exp: link.exp, sig }, T0)).resolves.toEqual({ ok: false, reason: 'forged' });
    }
    for (const exp of ['', '-1', '1e10', '12.5', undefined]) {
      await expect(s.verify('train-a', { exp, sig: link.sig }, T0)).resolves.toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('accepts only the canonical spelling of a signature (no malleable spare bits)', async () => {
    const s = signer();
    const link = await s.sign('train-a', EXPIRES);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(link.sig.slice(-1));
    // The last character's two low bits are padding: flipping them decodes to the same 32 bytes.
    const variant = `${link.sig.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(variant, 'base64url')).toEqual(Buffer.from(link.sig, 'base64url'));
    await expect(s.verify('train-a', { exp: link.exp, sig: variant }, T0)).resolves.toEqual({ ok: false, reason: 'forged' });
  });

  it('a forged link is refused before its expiry is looked at (an old forged link is not "expired")', async () => {
    const s = signer();
    await expect(s.verify('train-a', { exp: '1000', sig: 'A'.repeat(43) }, T0)).resolves.toEqual({ ok: false, reason: 'forged' });
  });

  it('verifies links signed with the previous key after a rotation, and signs with the current one', async () => {
    const oldKey = Buffer.alloc(32, 1);
    const newKey = Buffer.alloc(32, 2);
    const before = new ApprovalLinkSigner(new FixedKeys({ current: oldKey, previous: [] }));
    const after = new ApprovalLinkSigner(new FixedKeys({ current: newKey, previous: [oldKey] }));
    const old = await before.sign('train-a', EXPIRES);
    await expect(after.verify('train-a', old, T0)).resolves.toMatchObject({ ok: true });
    const fresh = await after.sign('train-a', EXPIRES);
    expect(fresh.sig).not.toBe(old.sig);
    await expect(before.verify('train-a', fresh, T0)).resolves.toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses keys shorter than 32 bytes', () => {
    expect(() => checkSigningKey(Buffer.alloc(31), 'the secret')).toThrow('31 bytes; at least 32');
    expect(checkSigningKey(SIGNING_KEY, 'x')).toBe(SIGNING_KEY);
  });
});
