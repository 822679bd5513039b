/**
 * Governance of reward-policy files: every policy (but the first) is accepted only with a backtest report
 * of exactly its content, the last published versions stay, unchanged, and a stage may only name a
 * published policy. The first two tests hold the committed folder to those rules; the rest show that each
 * rule fails when it should, on copies.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptanceProblems, policyVersionsIn, readPolicyHistory, retentionProblems, RETAINED_VERSIONS } from '../../config/reward-policies/history';
import { rewardPolicyHash } from '../../config/reward-policies/policy-hash';
import { readPolicyFile, readRewardPolicy, REWARD_POLICY_DIR } from '../../config/reward-policies/read';
import { loadStageConfig, STAGES } from '../../config';

const DIR = REWARD_POLICY_DIR;
const v1 = () => JSON.parse(readFileSync(join(DIR, 'v1.json'), 'utf8')) as Record<string, unknown>;

describe('the committed reward policies', () => {
  it('each have a backtest report of their exact content and owner (v1 predates backtests)', () => {
    expect(acceptanceProblems(DIR)).toEqual([]);
    expect(policyVersionsIn(DIR)).toEqual(expect.arrayContaining(['v1', 'v2']));
  });

  it('keep the last published versions, unchanged', () => {
    expect(retentionProblems(DIR)).toEqual([]);
  });

  it('are what every stage names: published versions', () => {
    const published = readPolicyHistory(DIR).map((e) => e.version);
    for (const name of Object.keys(STAGES)) expect(published).toContain(loadStageConfig(name).rewardPolicyVersion);
  });
});

describe('rewardPolicyHash', () => {
  it('depends on the content, not on the layout or key order', () => {
    const policy = readRewardPolicy('v1');
    const reordered = Object.fromEntries(Object.entries(policy).reverse()) as typeof policy;
    expect(rewardPolicyHash(reordered)).toBe(rewardPolicyHash(policy));
    expect(rewardPolicyHash({ ...policy, description: `${policy.description} ` })).not.toBe(rewardPolicyHash(policy));
    expect(rewardPolicyHash(policy)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('on a copy of the folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sial-policies-'));
    for (const f of ['v1.json', 'v2.json', 'v2.backtest.json', 'history.json']) copyFileSync(join(DIR, f), join(dir, f));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writePolicy = (version: string, patch: Record<string, unknown> = {}): Record<string, unknown> => {
    const policy = { ...v1(), version, ...patch };
    writeFileSync(join(dir, `${version}.json`), JSON.stringify(policy, null, 2));
    return policy;
  };
  const history = (): { published: Array<Record<string, string>> } => JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
  const publish = (version: string): void => {
    const h = history();
    h.published.push({ version, hash: rewardPolicyHash(readPolicyFile(join(dir, `${version}.json`))), date: '2026-12-31', owner: 'platform-mlops-lead' });
    writeFileSync(join(dir, 'history.json'), JSON.stringify(h));
  };

  it('refuses a policy without a backtest report, and one whose report is of other content', () => {
    writePolicy('v3');
    expect(acceptanceProblems(dir)).toEqual([expect.stringContaining('v3: no backtest report config/reward-policies/v3.backtest.json')]);
    const report = JSON.parse(readFileSync(join(dir, 'v2.backtest.json'), 'utf8'));
    writeFileSync(join(dir, 'v3.backtest.json'), JSON.stringify({ ...report, candidate: { ...report.candidate, version: 'v3' } }));
    expect(acceptanceProblems(dir)).toEqual([expect.stringMatching(/^v3: the backtest report is of hash sha256:\w+ but the file's hash is/)]);
    writeFileSync(join(dir, 'v3.backtest.json'), JSON.stringify({ candidate: report.candidate }));
    expect(acceptanceProblems(dir)).toEqual([expect.stringMatching(/^v3: v3.backtest.json is not a backtest report of sial policy backtest: .*kind/s)]);
  });

  it('refuses a report whose owner is not the policy owner', () => {
    const v2 = JSON.parse(readFileSync(join(dir, 'v2.json'), 'utf8'));
    writeFileSync(join(dir, 'v2.json'), JSON.stringify({ ...v2, owner: 'someone-else' }));
    expect(acceptanceProblems(dir).join('\n')).toMatch(/v2: the backtest report names owner "platform-mlops-lead" but the policy names "someone-else"/);
  });

  it('fails when one of the last five published files is missing or changed, not when an older one is gone', () => {
    for (const v of ['v3', 'v4', 'v5', 'v6', 'v7']) {
      writePolicy(v, { description: `policy ${v}` });
      publish(v);
    }
    expect(history().published.slice(-RETAINED_VERSIONS).map((e) => e.version)).toEqual(['v3', 'v4', 'v5', 'v6', 'v7']);
    expect(retentionProblems(dir)).toEqual([]);
    unlinkSync(join(dir, 'v1.json'));
    expect(retentionProblems(dir)).toEqual([]);
    unlinkSync(join(dir, 'v4.json'));
    expect(retentionProblems(dir)).toEqual([`v4 (one of the last ${RETAINED_VERSIONS} published): config/reward-policies/v4.json is missing`]);
    writePolicy('v4', { description: 'policy v4' });
    writePolicy('v6', { description: 'edited after publishing' });
    expect(retentionProblems(dir)).toEqual([expect.stringMatching(/^v6: the file's hash is sha256:\w+ but history.json published sha256:\w+; a published policy never changes/)]);
  });

  it('refuses a history with a repeated version or an entry dated before the one above it', () => {
    const h = history();
    writeFileSync(join(dir, 'history.json'), JSON.stringify({ published: [...h.published, h.published[0]] }));
    expect(() => readPolicyHistory(dir)).toThrow('repeats version "v1"');
    writeFileSync(join(dir, 'history.json'), JSON.stringify({ published: [...h.published, { ...h.published[0], version: 'v0', date: '2020-01-01' }] }));
    expect(() => readPolicyHistory(dir)).toThrow(/is dated before the entry above it/);
  });

  it('the loader reads a published policy, refuses an unpublished one and an edited one', () => {
    expect(readRewardPolicy('v1', dir).version).toBe('v1');
    writePolicy('v3');
    expect(() => readRewardPolicy('v3', dir)).toThrow('Reward policy "v3" is not published: config/reward-policies/history.json does not list it');
    publish('v3');
    expect(readRewardPolicy('v3', dir).version).toBe('v3');
    writePolicy('v3', { owner: 'someone-else' });
    expect(() => readRewardPolicy('v3', dir)).toThrow(/has hash sha256:\w+ but history.json published sha256:\w+/);
    expect(() => readRewardPolicy('v9', dir)).toThrow(/not found: expected config\/reward-policies\/v9.json; available versions: v1, v2, v3$/);
  });
});

describe('readPolicyFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sial-candidate-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says where a candidate that is not JSON breaks', () => {
    const file = join(dir, 'v3.json');
    writeFileSync(file, '{\n  "version": "v3",\n  "owner": oops\n}\n');
    expect(() => readPolicyFile(file)).toThrow(`Reward policy ${file} is not valid JSON at line 3, column 12`);
    writeFileSync(file, '{"version": "v3", "weights": {"judge": 0.2,}}');
    expect(() => readPolicyFile(file)).toThrow(`Reward policy ${file} is not valid JSON at line 1, column 44`);
    writeFileSync(file, '');
    expect(() => readPolicyFile(file)).toThrow(`Reward policy ${file} is not valid JSON (the file is empty)`);
  });

  it('refuses a field given twice, which JSON.parse would silently take the last of', () => {
    const file = join(dir, 'v3.json');
    writeFileSync(file, JSON.stringify({ ...v1(), version: 'v3' }).replace('"judge":0}', '"judge":0,"judge":0.5}'));
    expect(() => readPolicyFile(file)).toThrow(`Reward policy ${file} gives the field "judge" in weights twice`);
  });

  it('names each invalid field, and a version that is not the file name', () => {
    const file = join(dir, 'v3.json');
    writeFileSync(file, JSON.stringify({ ...v1(), version: 'v3', weights: { ...(v1().weights as object), judge: 0.5 } }));
    expect(() => readPolicyFile(file)).toThrow(/judge: received nothing \(the field is missing\); a policy that gives the judge weight must define the judge/);
    writeFileSync(file, JSON.stringify(v1()));
    expect(() => readPolicyFile(file)).toThrow('version: received "v1"; expected "v3", the file\'s name');
  });
});
