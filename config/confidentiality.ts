/**
 * The confidentiality levels a trace may declare, least to most restricted (the confidentiality gate's
 * order). Pure data, apart from the stage schema: a Lambda that only needs the levels must not bundle
 * the whole stage configuration schema.
 */
export const CONFIDENTIALITY_LEVELS = ['public', 'internal', 'customer-confidential', 'internal-only', 'restricted'] as const;
export type ConfidentialityLevel = (typeof CONFIDENTIALITY_LEVELS)[number];
