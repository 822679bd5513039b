import type { ConfidentialityLevel } from '../../../config/schema';
import type { Trace } from '../trace';
import type { Discard } from './verdict';

/** Which models a kept trace may train (the confidentiality gate). */
export type TrainingScope = 'all-models' | 'internal-only-models';

export type ConfidentialityVerdict =
  | { readonly kept: true; readonly level: ConfidentialityLevel; readonly scope: TrainingScope }
  | { readonly kept: false; readonly discard: Discard };

const SCOPE_OF_LEVEL: Readonly<Record<Exclude<ConfidentialityLevel, 'restricted'>, TrainingScope>> = {
  public: 'all-models',
  internal: 'all-models',
  'customer-confidential': 'internal-only-models',
  'internal-only': 'internal-only-models',
};

/**
 * Confidentiality gate: tags each row with the models it may train. Customer-confidential and
 * internal-only traces may only feed internal-only models; `restricted` traces never train anything.
 * A trace without a label is treated as customer-confidential, the most restrictive trainable level:
 * fail-closed without throwing away data that an internal-only model may lawfully use.
 */
export function checkConfidentiality(trace: Trace): ConfidentialityVerdict {
  const level: ConfidentialityLevel = trace.confidentiality ?? 'customer-confidential';
  if (level === 'restricted') {
    return { kept: false, discard: { gate: 'confidentiality', reason: 'restricted: restricted traces never feed training' } };
  }
  return { kept: true, level, scope: SCOPE_OF_LEVEL[level] };
}
