import type { Trace } from '../trace';
import type { Discard } from './verdict';

/**
 * Consent gate: only traces whose user consented to collection (`consent=true`) enter the training
 * lake. Absent consent is not consent.
 */
export function checkConsent(trace: Trace): Discard | undefined {
  if (trace.consent === undefined) return { gate: 'consent', reason: 'missing_consent: the trace carries no consent flag' };
  if (trace.consent !== true) return { gate: 'consent', reason: 'consent_withheld: consent=false' };
  return undefined;
}
