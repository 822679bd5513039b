import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerKeyProvider, SIGNING_KEY_CACHE_MS } from '../../../lambdas/pipeline/approvals/aws/secrets-manager-key-provider';

const secrets = mockClient(SecretsManagerClient);
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:approval-signing-AbCdEf';
const CURRENT = 'c'.repeat(64);
const PREVIOUS = 'p'.repeat(64);

describe('SecretsManagerKeyProvider', () => {
  let now: number;
  const provider = () => new SecretsManagerKeyProvider(new SecretsManagerClient({ region: 'us-east-1' }), SECRET, { now: () => now });
  beforeEach(() => {
    secrets.reset();
    now = 1_000_000;
  });

  it('signs with AWSCURRENT and also verifies with AWSPREVIOUS after a rotation', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: CURRENT });
    secrets.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPREVIOUS' }).resolves({ SecretString: PREVIOUS });
    await expect(provider().keys()).resolves.toEqual({ current: Buffer.from(CURRENT), previous: [Buffer.from(PREVIOUS)] });
  });

  it('a secret never rotated has no previous key, and that is fine', async () => {
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: CURRENT });
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(new ResourceNotFoundException({ message: 'no such version', $metadata: {} }));
    await expect(provider().keys()).resolves.toEqual({ current: Buffer.from(CURRENT), previous: [] });
  });

  it('caches the keys (concurrent callers share one fetch) until the cache period ends', async () => {
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: CURRENT });
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(new ResourceNotFoundException({ message: 'none', $metadata: {} }));
    const p = provider();
    await Promise.all([p.keys(), p.keys(), p.keys()]);
    now += SIGNING_KEY_CACHE_MS - 1;
    await p.keys();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    now += 1;
    await p.keys();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(4);
  });

  it('does not cache a failure, and refuses a key that is too short', async () => {
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).rejectsOnce(new Error('ThrottlingException')).resolves({ SecretString: 'short' });
    secrets.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(new ResourceNotFoundException({ message: 'none', $metadata: {} }));
    const p = provider();
    await expect(p.keys()).rejects.toThrow('ThrottlingException');
    await expect(p.keys()).rejects.toThrow(`The approval signing key in ${SECRET} (AWSCURRENT) is 5 bytes; at least 32 are required`);
  });
});
