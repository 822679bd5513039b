/**
 * A SIMULATED human for local runs and tests: it watches the local approval store and decides each
 * waiting approval by its kind, through the same decision code as the page and the CLI, recorded
 * with an approver name that says it was scripted. `npm run local -- --auto-approve` uses it; without
 * that flag a person decides on the local page or with `sial approvals approve ID --local DIR`.
 */
import { decideApproval } from '../../lambdas/pipeline/approvals/decide';
import type { ApprovalKind } from '../../lambdas/pipeline/contracts';
import type { Clock } from '../../lambdas/pipeline/ports';
import type { LocalApprovals } from './local-approval-runtime';

export type ScriptedDecision = 'approve' | 'reject' | 'ignore';

export const SCRIPTED_APPROVER = 'local:scripted-approver (SIMULATED, not a person)';

export interface ScriptedApprover {
  /** Approval ids decided so far, with the decision taken. */
  readonly decided: Array<{ approvalId: string; kind: ApprovalKind; decision: ScriptedDecision }>;
  /** What went wrong while polling or deciding: kept here, never thrown from a timer. */
  readonly failures: Error[];
  /** Stops polling and waits for a poll still in flight, so its caller may remove the store after. */
  stop(): Promise<void>;
}

/** Starts deciding waiting approvals every `pollMs` by `script[kind]` (default: ignore). */
export function startScriptedApprover(
  approvals: LocalApprovals,
  script: Partial<Record<ApprovalKind, ScriptedDecision>>,
  options: { clock?: Clock; pollMs?: number; comment?: string } = {},
): ScriptedApprover {
  const clock = options.clock ?? (() => new Date());
  const decided: ScriptedApprover['decided'] = [];
  const failures: Error[] = [];
  const seen = new Set<string>();
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  const decideWaiting = async (): Promise<void> => {
    for (const record of await approvals.store.listPending({ now: clock() })) {
      if (seen.has(record.approvalId) || record.taskToken === undefined) continue;
      const decision = script[record.kind] ?? 'ignore';
      seen.add(record.approvalId);
      decided.push({ approvalId: record.approvalId, kind: record.kind, decision });
      if (decision === 'ignore') continue;
      await decideApproval(
        {
          approvalId: record.approvalId,
          decision: decision === 'approve' ? 'approved' : 'rejected',
          approver: SCRIPTED_APPROVER,
          comment: options.comment ?? `scripted ${decision} (local simulation)`,
          via: 'cli',
        },
        { store: approvals.store, callbacks: approvals.callbacks, clock },
      );
    }
  };
  const tick = (): void => {
    if (stopped || inFlight !== undefined) return;
    // A failure inside a timer callback would be an unhandled rejection that kills the process.
    inFlight = decideWaiting()
      .catch((error: unknown) => {
        failures.push(error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        inFlight = undefined;
      });
  };
  const timer = setInterval(tick, options.pollMs ?? 50);
  return {
    decided,
    failures,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
