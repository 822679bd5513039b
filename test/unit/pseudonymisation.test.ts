import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerPseudonymisationKeyProvider } from '../../lambdas/shared/aws/secrets-manager-pseudonymisation-key';
import { PSEUDONYM_PATTERN, createPseudonymiser, isPseudonym } from '../../lambdas/shared/pseudonymisation';
import { LOCAL_PSEUDONYMISATION_KEY_FILE, LocalPseudonymisationKeyProvider } from '../../local/local-pseudonymisation-key';

const key = Buffer.alloc(32, 1);

describe('keyed pseudonyms', () => {
  const pseudonymiser = createPseudonymiser(key);

  it('are hmac-sha256:<64 hex>, stable for one value and key, so sessions stay joinable', () => {
    const a = pseudonymiser.pseudonymise('session', 'whatsapp:+14155550123');
    expect(a).toMatch(PSEUDONYM_PATTERN);
    expect(isPseudonym(a)).toBe(true);
    expect(createPseudonymiser(Buffer.from(key)).pseudonymise('session', 'whatsapp:+14155550123')).toBe(a);
    expect(pseudonymiser.pseudonymise('session', 'whatsapp:+14155550124')).not.toBe(a);
  });

  it('depend on the key: another stage (another key) cannot match them', () => {
    expect(createPseudonymiser(Buffer.alloc(32, 2)).pseudonymise('session', 'sess-1')).not.toBe(pseudonymiser.pseudonymise('session', 'sess-1'));
  });

  it('are a documented derivation, so erasure tooling can recompute them from the raw value', () => {
    // HMAC-SHA-256(key, "sial-pseudonym:v1\nsession\n" + value), hex.
    const expected = createHmac('sha256', key).update('sial-pseudonym:v1\nsession\nsess-4411', 'utf8').digest('hex');
    expect(pseudonymiser.pseudonymise('session', 'sess-4411')).toBe(`hmac-sha256:${expected}`);
  });

  it('hash the value exactly as received (no trimming or case folding)', () => {
    expect(pseudonymiser.pseudonymise('session', 'Sess-1')).not.toBe(pseudonymiser.pseudonymise('session', 'sess-1'));
    expect(pseudonymiser.pseudonymise('session', ' sess-1')).not.toBe(pseudonymiser.pseudonymise('session', 'sess-1'));
  });

  it('refuse a key shorter than 32 bytes, without quoting it', () => {
    expect(() => createPseudonymiser(Buffer.from('short-key'))).toThrow('has 9 bytes; expected at least 32');
    expect(() => createPseudonymiser(Buffer.from('short-key'))).not.toThrow(/short-key/);
  });
});

describe('SecretsManagerPseudonymisationKeyProvider', () => {
  const secrets = mockClient(SecretsManagerClient);
  const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:PseudonymisationKey-AbCdEf';

  beforeEach(() => secrets.reset());

  it('reads the secret once and keeps the key for the life of the environment', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: 'a'.repeat(64) });
    const provider = new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient({}), arn);
    const [first, second] = await Promise.all([provider.key(), provider.key()]);
    expect(Buffer.from(first!).toString('utf8')).toBe('a'.repeat(64));
    expect(await provider.key()).toBe(second);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('rejects while the secret cannot be read, and tries again on the next call', async () => {
    secrets.on(GetSecretValueCommand).rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDeniedException' })).resolves({ SecretString: 'b'.repeat(64) });
    const provider = new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient({}), arn);
    await expect(provider.key()).rejects.toThrow('denied');
    expect(Buffer.from(await provider.key()).toString('utf8')).toBe('b'.repeat(64));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('refuses a secret that is too short or empty, naming the secret, never its value', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'tiny-secret' });
    await expect(new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient({}), arn).key()).rejects.toThrow(`secret ${arn} has 11 bytes`);
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({});
    await expect(new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient({}), arn).key()).rejects.toThrow('has no value');
  });
});

describe('LocalPseudonymisationKeyProvider', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sial-pseudonym-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a key file labelled local in the lake directory on first use, readable by its owner only', async () => {
    const keyBytes = await new LocalPseudonymisationKeyProvider(dir).key();
    expect(keyBytes.length).toBe(32);
    const path = join(dir, LOCAL_PSEUDONYMISATION_KEY_FILE);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(expect.objectContaining({ label: 'local', note: expect.stringContaining('local') }));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('gives every process that opens the same lake the same key', async () => {
    const [a, b] = await Promise.all([new LocalPseudonymisationKeyProvider(dir).key(), new LocalPseudonymisationKeyProvider(dir).key()]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(await new LocalPseudonymisationKeyProvider(dir).key()).equals(Buffer.from(a))).toBe(true);
  });

  it('refuses a file that is not a local key file', async () => {
    writeFileSync(join(dir, LOCAL_PSEUDONYMISATION_KEY_FILE), JSON.stringify({ label: 'prod', key: 'abc' }));
    await expect(new LocalPseudonymisationKeyProvider(dir).key()).rejects.toThrow('is not a local pseudonymisation key file');
  });
});
