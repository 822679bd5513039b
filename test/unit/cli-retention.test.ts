/**
 * `sial retention remove`: the guard refuses the newest N approved versions of a target model (3 for an
 * LLM, 10 for a router) and the last 5 published reward policies, says why, and removes nothing then;
 * an older version is only removed with --execute (artifact versions first, then the package).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, type CliContext } from '../../bin/cli/command';
import { runCli } from '../../bin/cli/main';
import { retentionCommandWith } from '../../bin/cli/retention';
import type { RetentionBackend } from '../../bin/cli/retention-backend';
import type { RegisteredModelPackage } from '../../lambdas/pipeline/register-model/model-registry';
import { removalDecision } from '../../lambdas/pipeline/register-model/retention';
import { policyRemovalRefusal, type PublishedPolicy } from '../../config/reward-policies/history';

const ACCOUNT = '123456789012';
const arnOf = (group: string, version: number) => `arn:aws:sagemaker:eu-central-1:${ACCOUNT}:model-package/${group}/${version}`;

function pkg(group: string, version: number, status: RegisteredModelPackage['approvalStatus'], targetModelId: string): RegisteredModelPackage {
  return {
    arn: arnOf(group, version),
    groupName: group,
    version,
    approvalStatus: status,
    createdAt: new Date(Date.UTC(2026, 10, version)),
    modelDataUrl: `s3://sial-dev-artifacts/runs/run-${version}/output/model.tar.gz`,
    metadata: { targetModelId },
  };
}

class FakeBackend implements RetentionBackend {
  public readonly calls: string[] = [];
  constructor(private readonly packages: RegisteredModelPackage[]) {}
  public readonly registry = { listPackages: async (group: string) => this.packages.filter((p) => p.groupName === group) };
  async deleteModelPackage(arn: string): Promise<void> {
    this.calls.push(`delete-package ${arn}`);
  }
  async deleteAllVersions(uri: string): Promise<number> {
    this.calls.push(`delete-object-versions ${uri}`);
    return 2;
  }
}

const LLM_GROUP = 'sial-dev-qwen3';
const ROUTER_GROUP = 'sial-dev-support-router';
// qwen3-4b: 5 approved (1..5) and a rejected 6; the internal model shares the group with one old approved version.
const llm = [1, 2, 3, 4, 5].map((v) => pkg(LLM_GROUP, v, 'Approved', 'qwen3-4b'));
const shared = [...llm, pkg(LLM_GROUP, 6, 'Rejected', 'qwen3-4b'), pkg(LLM_GROUP, 7, 'Approved', 'qwen3-4b-internal')];
const router = Array.from({ length: 12 }, (_, i) => pkg(ROUTER_GROUP, i + 1, 'Approved', 'support-router'));

describe('sial retention remove --model-package', () => {
  let out: string[];
  let err: string[];
  let backend: FakeBackend;
  const context = (): CliContext => ({ io: { out: (l) => void out.push(l), err: (l) => void err.push(l) }, env: {}, clock: () => new Date('2026-12-01T00:00:00Z') });
  const sial = (...args: string[]) => runCli(['retention', 'remove', ...args], context(), [retentionCommandWith(() => backend)]);
  beforeEach(() => {
    out = [];
    err = [];
    backend = new FakeBackend([...shared, ...router]);
  });

  it.each([3, 4, 5])('refuses LLM version %i (one of the newest 3 approved of qwen3-4b), even with --execute, and removes nothing', async (version) => {
    expect(await sial('--stage', 'dev', '--model-package', arnOf(LLM_GROUP, version), '--execute')).toBe(EXIT.failed);
    expect(err.join('\n')).toContain(`refused: version ${version} of qwen3-4b is one of its newest 3 approved versions (5, 4, 3)`);
    expect(backend.calls).toEqual([]);
  });

  it('refuses the internal model\'s only approved version: the newest N are counted per target model, not per group', async () => {
    expect(await sial('--stage', 'dev', '--model-package', arnOf(LLM_GROUP, 7), '--execute')).toBe(EXIT.failed);
    expect(err.join('\n')).toContain('version 7 of qwen3-4b-internal is one of its newest 3 approved versions (7)');
    expect(backend.calls).toEqual([]);
  });

  it('keeps the newest 10 of a router: version 3 is refused, version 2 may go', async () => {
    expect(await sial('--stage', 'dev', '--model-package', arnOf(ROUTER_GROUP, 3))).toBe(EXIT.failed);
    expect(err.join('\n')).toContain('one of its newest 10 approved versions (12, 11, 10, 9, 8, 7, 6, 5, 4, 3)');
    expect(await sial('--stage', 'dev', '--model-package', arnOf(ROUTER_GROUP, 2))).toBe(EXIT.ok);
    expect(backend.calls).toEqual([]);
  });

  it('an older approved version: a dry run without --execute, the artifact then the package with it', async () => {
    expect(await sial('--stage', 'dev', '--model-package', arnOf(LLM_GROUP, 2))).toBe(EXIT.ok);
    expect(out.join('\n')).toContain('may be removed: version 2 of qwen3-4b is approved but older than its newest 3 approved versions (5, 4, 3)');
    expect(backend.calls).toEqual([]);
    expect(await sial('--stage', 'dev', '--model-package', arnOf(LLM_GROUP, 2), '--execute')).toBe(EXIT.ok);
    expect(backend.calls).toEqual([`delete-object-versions s3://sial-dev-artifacts/runs/run-2/output/model.tar.gz`, `delete-package ${arnOf(LLM_GROUP, 2)}`]);
  });

  it('a never-approved version may go', async () => {
    expect(await sial('--stage', 'dev', '--model-package', arnOf(LLM_GROUP, 6), '--execute')).toBe(EXIT.ok);
    expect(out.join('\n')).toContain('was never approved (Rejected)');
  });

  it('refuses a package of another stage, an unknown one, and a malformed ARN', async () => {
    expect(await sial('--stage', 'dev', '--model-package', arnOf('sial-prod-eu-qwen3', 1))).toBe(EXIT.usage);
    expect(await sial('--stage', 'dev', '--model-package', arnOf(LLM_GROUP, 99), '--execute')).toBe(EXIT.failed);
    expect(err.join('\n')).toContain('is not in group sial-dev-qwen3; nothing removed');
    expect(await sial('--stage', 'dev', '--model-package', 'model-package/x/1')).toBe(EXIT.usage);
    expect(await sial('--model-package', arnOf(LLM_GROUP, 1))).toBe(EXIT.usage);
    expect(backend.calls).toEqual([]);
  });
});

describe('removalDecision', () => {
  it('applies the retention per target model, with the keep it is given', () => {
    expect(removalDecision(llm[0]!, shared, 3).removable).toBe(true);
    expect(removalDecision(llm[2]!, shared, 3).removable).toBe(false);
    expect(removalDecision(llm[0]!, shared, 5).removable).toBe(false);
  });
});

describe('sial retention remove --reward-policy', () => {
  const history: PublishedPolicy[] = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7'].map((version, i) => ({
    version,
    hash: `sha256:${'0'.repeat(63)}${i}`,
    date: `2026-11-0${i + 1}`,
    owner: 'platform-mlops-lead',
  }));
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sial-retention-'));
    writeFileSync(join(dir, 'history.json'), JSON.stringify({ published: history }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the last 5 published versions and allows older ones', async () => {
    expect(policyRemovalRefusal(history, 'v3')).toContain('one of the last 5 published versions (v3, v4, v5, v6, v7)');
    expect(policyRemovalRefusal(history, 'v2')).toBeUndefined();
    expect(policyRemovalRefusal(history, 'v9')).toContain('was never published');
    const out: string[] = [];
    const err: string[] = [];
    const context: CliContext = { io: { out: (l) => void out.push(l), err: (l) => void err.push(l) }, env: {}, clock: () => new Date() };
    const command = retentionCommandWith(() => new FakeBackend([]), dir);
    expect(await runCli(['retention', 'remove', '--reward-policy', 'v7'], context, [command])).toBe(EXIT.failed);
    expect(await runCli(['retention', 'remove', '--reward-policy', 'v1'], context, [command])).toBe(EXIT.ok);
    expect(await runCli(['retention', 'remove', '--reward-policy', 'v1', '--execute'], context, [command])).toBe(EXIT.usage);
    expect(err[0]).toContain('refused: reward policy v7 is one of the last 5 published versions');
    expect(out[0]).toContain('reward policy v1 is older than the last 5 published');
  });
});
