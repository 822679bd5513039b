/**
 * Fixtures shared by the approval tests: a validated request and a summary as the state machine
 * sends them, a fixed signing key, a settable clock, temp directories, and recording fakes of the
 * Notifier and TaskCallbacks ports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApprovalKind, ApprovalRef, ValidatedRequest } from '../../../lambdas/pipeline/contracts';
import type { Notifier } from '../../../lambdas/pipeline/ports';
import type { AddressesByKind } from '../../../lambdas/pipeline/approvals/approval-recipients';
import { ApprovalLinkSigner, type SigningKeyProvider, type SigningKeys } from '../../../lambdas/pipeline/approvals/signer';
import type { TaskCallbacks } from '../../../lambdas/pipeline/approvals/task-callbacks';
import { prepareApproval, type PrepareApprovalInput } from '../../../lambdas/pipeline/approvals/prepare-approval';
import { requestApproval } from '../../../lambdas/pipeline/approvals/request-approval';
import type { ApprovalStore } from '../../../lambdas/pipeline/approvals/store';
import type { ApprovalRecord } from '../../../lambdas/pipeline/approvals/approval-record';

export const T0 = new Date('2026-11-23T09:00:00.000Z');
export const SIGNING_KEY = Buffer.from('k'.repeat(48), 'utf8');
export const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAe8nF0rXnLuS+secret-task-token';

export function request(overrides: Partial<ValidatedRequest> = {}): ValidatedRequest {
  return {
    runId: 'run-2026-11-23-a',
    mode: 'train',
    stage: 'dev',
    boundary: 'US',
    targetModelId: 'qwen3-4b',
    modelFamily: 'qwen3',
    internalOnly: false,
    algorithm: 'grpo',
    baseModelUri: 's3://models/qwen3-4b/',
    requestedBy: 'scheduler:weekly',
    requestedAt: '2026-11-23T08:55:00.000Z',
    uris: {
      datasetPrefix: 's3://artifacts/runs/r/dataset/',
      output: 's3://artifacts/runs/r/output/',
      checkpoints: 's3://artifacts/runs/r/checkpoints/',
      evalOutput: 's3://artifacts/runs/r/eval/',
      metrics: 's3://artifacts/runs/r/eval/metrics.json',
    },
    ...overrides,
  };
}

export function prepareInput(kind: ApprovalKind = 'train', summary: PrepareApprovalInput['summary'] = defaultSummary()): PrepareApprovalInput {
  return { kind, request: request(), summary, executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sial-training:run-2026-11-23-a' };
}

export function defaultSummary(): PrepareApprovalInput['summary'] {
  return {
    targetModelId: 'qwen3-4b',
    requestedBy: 'scheduler:weekly',
    datasetCounts: { tracesUsed: 1234, grpoGroups: 310, dpoPairs: 95 },
    eligibility: { positiveFeedback: 140, minPositiveFeedback: 100, lastTrainedAt: null },
    gpuBudget: { estimateGpuHours: 192, usedGpuHours: 240.5, ceilingGpuHours: 1000 },
  };
}

/** A key provider with fixed keys. */
export class FixedKeys implements SigningKeyProvider {
  calls = 0;
  constructor(private readonly value: SigningKeys = { current: SIGNING_KEY, previous: [] }) {}
  async keys(): Promise<SigningKeys> {
    this.calls++;
    return this.value;
  }
}

export function signer(keys: SigningKeys = { current: SIGNING_KEY, previous: [] }): ApprovalLinkSigner {
  return new ApprovalLinkSigner(new FixedKeys(keys));
}

/** A clock tests move by hand. */
export class TestClock {
  constructor(public now: Date = T0) {}
  readonly fn = (): Date => new Date(this.now.getTime());
  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }
}

export class RecordingNotifier implements Notifier {
  readonly sent: Array<{ topic: string; subject: string; message: string; recipient?: string }> = [];
  async publish(topic: 'approvals' | 'finops' | 'notifications', subject: string, message: string, recipient?: string): Promise<void> {
    this.sent.push({ topic, subject, message, ...(recipient !== undefined ? { recipient } : {}) });
  }
}

/** TaskCallbacks that record every call; `next` decides what the next call does. */
export class RecordingCallbacks implements TaskCallbacks {
  readonly calls: Array<{ kind: 'succeed'; token: string; output: string } | { kind: 'fail'; token: string; error: string; cause: string }> = [];
  next: Error | undefined;
  async succeed(token: string, output: string): Promise<void> {
    this.calls.push({ kind: 'succeed', token, output });
    this.throwNext();
  }
  async fail(token: string, error: string, cause: string): Promise<void> {
    this.calls.push({ kind: 'fail', token, error, cause });
    this.throwNext();
  }
  private throwNext(): void {
    const error = this.next;
    this.next = undefined;
    if (error !== undefined) throw error;
  }
}

/** A fresh temp directory, removed by the returned function. */
export function tempDir(prefix = 'sial-approvals-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The `exp`, `sig` and `to` (empty on a view-only link) of a link. */
export function linkParams(url: string): { id: string; exp: string; sig: string; to: string; path: string } {
  const parsed = new URL(url);
  const id = decodeURIComponent(parsed.pathname.split('/').pop() ?? '');
  return { id, exp: parsed.searchParams.get('exp') ?? '', sig: parsed.searchParams.get('sig') ?? '', to: parsed.searchParams.get('to') ?? '', path: parsed.pathname };
}

/** Who the helpers' approvals are sent to, per kind. */
export const TEST_RECIPIENTS: AddressesByKind = { train: ['approver@example.com', 'second@example.com'], 'deploy-stage': ['approver@example.com'], finops: ['finops@example.com'] };

/** The one page link in an approval e-mail. */
export function linkIn(message: string): string {
  const links = message.split('\n').filter((l) => l.startsWith('http'));
  if (links.length !== 1) throw new Error(`expected one link in the e-mail, found ${links.length}`);
  return links[0]!;
}

/** Prepares and requests an approval (token attached, e-mail sent) the way the two states do. */
export async function requestedApproval(
  store: ApprovalStore,
  clock: TestClock,
  options: { kind?: ApprovalKind; summary?: PrepareApprovalInput['summary']; token?: string; baseUrl?: string; expiryHours?: number; linkSigner?: ApprovalLinkSigner; recipients?: AddressesByKind; requestedBy?: string } = {},
): Promise<{ ref: ApprovalRef; notifier: RecordingNotifier; url: string }> {
  const linkSigner = options.linkSigner ?? signer();
  const pageBaseUrl = options.baseUrl ?? 'https://approvals.example.com/prod';
  const input = prepareInput(options.kind ?? 'train', options.summary ?? defaultSummary());
  const ref = await prepareApproval(options.requestedBy === undefined ? input : { ...input, request: { ...input.request, requestedBy: options.requestedBy } }, {
    store,
    signer: linkSigner,
    clock: clock.fn,
    pageBaseUrl,
    expiryHours: options.expiryHours ?? 72,
  });
  const notifier = new RecordingNotifier();
  await requestApproval({ taskToken: options.token ?? TOKEN, approvalId: ref.approvalId }, { store, signer: linkSigner, notifier, clock: clock.fn, pageBaseUrl, recipients: options.recipients ?? TEST_RECIPIENTS });
  // `url`: the first approver's personal link, as their e-mail carries it.
  return { ref, notifier, url: linkIn(notifier.sent[0]!.message) };
}

/** A record as `Request ... approval` leaves it: token attached, e-mail sent, waiting for a human. */
export function waitingRecord(expiresAt: Date, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  const createdAt = new Date(expiresAt.getTime() - 72 * 3_600_000);
  return {
    approvalId: 'train-00aa11bb22cc33dd',
    kind: 'train',
    stage: 'dev',
    runId: 'run-2026-11-23-a',
    targetModelId: 'qwen3-4b',
    requestedBy: 'scheduler:weekly',
    summary: defaultSummary(),
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sial-training:run-2026-11-23-a',
    createdAt: createdAt.toISOString(),
    expiresAt: expiresAt.toISOString(),
    status: 'pending',
    ttl: Math.floor(expiresAt.getTime() / 1000) + 400 * 86_400,
    taskToken: TOKEN,
    tokenAttachedAt: createdAt.toISOString(),
    notifiedAt: createdAt.toISOString(),
    waitingStage: 'dev',
    ...overrides,
  };
}
