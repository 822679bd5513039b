/**
 * Gate verdicts. The gates run in a fixed order, cheapest first:
 * schema, regional boundary, consent, confidentiality, then PII. A trace is kept only if it passes all.
 */
export const GATES = ['schema', 'region', 'consent', 'confidentiality', 'pii'] as const;
export type GateName = (typeof GATES)[number];

/** Why a trace was not kept: the gate, and a reason whose first word is a stable machine code. */
export interface Discard {
  readonly gate: GateName;
  readonly reason: string;
}

/** The machine code of a reason (`missing_consent: ...` -> `missing_consent`), used as a metric dimension. */
export function reasonCode(reason: string): string {
  const colon = reason.indexOf(':');
  return colon === -1 ? reason : reason.slice(0, colon);
}
