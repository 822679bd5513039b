/**
 * Approvals in local mode, wired for the local engine: the same prepare / request / decide code as
 * the Lambdas, with the file-backed store and callbacks, the local signing key, and the approval page
 * on 127.0.0.1. The engine overrides the approval states by name with these two calls:
 *
 *   [TRAINING_STATES.prepareTrainingApproval]: (input) => approvals.prepare(input),
 *   [TRAINING_STATES.requestTrainingApproval]: async (input) => settleLocalTask(await approvals.requestAndWait(input)),
 *
 * (and the same for FinOps). A human then decides on the page (the link is printed by the local
 * notifier) or with `sial approvals approve ID --local DIR`, from any terminal.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { approvalIdSchema } from '../../lambdas/pipeline/approvals/approval-record';
import { parseTaskInput } from '../../lambdas/pipeline/approvals/parse-input';
import { prepareApproval, prepareApprovalInputSchema } from '../../lambdas/pipeline/approvals/prepare-approval';
import { approvalRecipients, approverEmailLists, pageApproverLists, type ApprovalAddressConfig } from '../../lambdas/pipeline/approvals/approval-recipients';
import { requestApproval } from '../../lambdas/pipeline/approvals/request-approval';
import { ApprovalLinkSigner } from '../../lambdas/pipeline/approvals/signer';
import type { ApprovalRef } from '../../lambdas/pipeline/contracts';
import type { Clock, Notifier } from '../../lambdas/pipeline/ports';
import { startLocalApprovalServer, type LocalApprovalServer } from './local-approval-server';
import { LocalSigningKeyProvider } from './local-approval-signing-key';
import { LocalApprovalStore } from './local-approval-store';
import { LocalTaskCallbacks, type LocalTaskOutcome, type WaitOptions } from './local-task-callbacks';

export interface LocalApprovalsOptions {
  /** The local state directory (approvals.json, task-callbacks.json, approval-signing.key). */
  readonly dir: string;
  /** The stage's `approvals.expiryHours`. */
  readonly expiryHours: number;
  /** Where the approval e-mail goes locally (the console, a file). */
  readonly notifier: Notifier;
  /** The page's port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  readonly clock?: Clock;
  /**
   * The stage's approval addresses (`approvals` of the stage configuration): who gets a personal link
   * and which lists the page enforces. Default: {@link SIMULATED_LOCAL_APPROVERS}.
   */
  readonly addresses?: ApprovalAddressConfig;
}

/** SIMULATED approver addresses for local runs that pass none: nobody receives mail locally, the links are printed. */
export const SIMULATED_LOCAL_APPROVERS: ApprovalAddressConfig = { approverEmails: ['simulated-approver@sial.local'], finopsEmails: ['simulated-finops@sial.local'] };

export interface LocalApprovals {
  readonly baseUrl: string;
  readonly store: LocalApprovalStore;
  readonly callbacks: LocalTaskCallbacks;
  readonly signer: ApprovalLinkSigner;
  /** `Prepare ... approval`: validates the state's input and returns the ApprovalRef. */
  prepare(input: unknown): Promise<ApprovalRef>;
  /**
   * `Request ... approval`: attaches a fresh local token, sends the notification, and resolves when a
   * human decides or the approval expires (or after `timeoutMs`, the state's TimeoutSeconds, if given).
   */
  requestAndWait(input: unknown, options?: Omit<WaitOptions, 'pollMs'>): Promise<LocalTaskOutcome>;
  close(): Promise<void>;
}

/** The request state's payload; locally the engine's token is replaced (see requestAndWait). */
const localRequestInputSchema = z.object({ approvalId: approvalIdSchema, taskToken: z.optional(z.string()) });

/** Starts the local approval page and returns the handlers' implementation. */
export async function startLocalApprovals(options: LocalApprovalsOptions): Promise<LocalApprovals> {
  const clock = options.clock ?? (() => new Date());
  const store = new LocalApprovalStore(options.dir);
  const callbacks = new LocalTaskCallbacks(options.dir, clock);
  const signer = new ApprovalLinkSigner(new LocalSigningKeyProvider(options.dir));
  const addresses = options.addresses ?? SIMULATED_LOCAL_APPROVERS;
  const recipients = approvalRecipients(addresses);
  const approvers = pageApproverLists(approverEmailLists(addresses));
  const server: LocalApprovalServer = await startLocalApprovalServer({ store, signer, callbacks, clock, approvers, ...(options.port !== undefined ? { port: options.port } : {}) });
  return {
    baseUrl: server.baseUrl,
    store,
    callbacks,
    signer,
    prepare: async (input) => prepareApproval(parseTaskInput(prepareApprovalInputSchema, input, 'Prepare approval'), { store, signer, clock, pageBaseUrl: server.baseUrl, expiryHours: options.expiryHours }),
    async requestAndWait(input, wait = {}) {
      const { approvalId } = parseTaskInput(localRequestInputSchema, input, 'Request approval');
      // One token per request, like Step Functions per task attempt: the local engine hands every
      // state the same placeholder token, which would let a FinOps decision answer the training wait.
      const taskToken = `local-task:${approvalId}:${randomBytes(8).toString('hex')}`;
      await callbacks.open(taskToken);
      const requested = await requestApproval({ taskToken, approvalId }, { store, signer, notifier: options.notifier, clock, pageBaseUrl: server.baseUrl, recipients });
      const untilExpiry = Math.max(0, Date.parse(requested.expiresAt) - clock().getTime());
      return callbacks.waitFor(taskToken, { timeoutMs: wait.timeoutMs ?? untilExpiry, ...(wait.signal !== undefined ? { signal: wait.signal } : {}) });
    },
    close: () => server.close(),
  };
}
