/**
 * The stage's PII settings: which detector reads which language (Comprehend, a self-hosted
 * named-entity endpoint per language, or patterns alone under a recorded risk acceptance). Part of the
 * stage schema (config/schema.ts re-exports it), in a module of its own so that the gate's
 * configuration (lambdas/gate-score/gate-config.ts, validated at synthesis) does not need the whole
 * stage schema. The gate's bundle carries none of it: it reads endpoint names with
 * sagemaker-endpoint.ts.
 */
import * as z from '../lambdas/shared/zod-mini';
import { SAGEMAKER_ENDPOINT_ARN, SAGEMAKER_ENDPOINT_NAME } from './sagemaker-endpoint';

const languageCode = z.string().check(z.regex(/^[a-z]{2,3}$/, 'must be a lower-case ISO 639 language code such as en or ko'));

export { parseSageMakerEndpoint, type SageMakerEndpointRef } from './sagemaker-endpoint';

/**
 * A named-entity detector for one language that Comprehend does not read: a self-hosted
 * token-classification model (Hugging Face inference toolkit) on a SageMaker real-time endpoint of the
 * stage's own account and region. Its findings are unioned with the pattern detector's.
 */
export const entityDetectorSchema = z.strictObject({
    kind: z.literal('sagemaker-endpoint'),
    /** The endpoint's name; an ARN is accepted only if it names the stage's region and pinned account. */
    endpoint: z.string().check(z.refine((v) => SAGEMAKER_ENDPOINT_NAME.test(v) || SAGEMAKER_ENDPOINT_ARN.test(v), 'must be a SageMaker endpoint name or endpoint ARN')),
    /** Entities under this model score are left unmasked. */
    minScore: z.number().check(z.gte(0), z.lte(1)),
    /**
     * Largest text of one model input, in UTF-8 bytes: longer texts are split with an overlap. Keep it
     * within the model's window (e.g. 512 tokens), or set `stride`, since the pipeline otherwise
     * silently reads only the beginning of a longer input.
     */
    maxTextBytes: z.number().check(z.int(), z.gte(256), z.lte(100_000)),
    /** Most inputs in one InvokeEndpoint call. */
    maxBatchTexts: z.number().check(z.int(), z.gte(1), z.lte(256)),
    /** Most UTF-8 bytes of all inputs of one call (the endpoint takes at most 6 MB per request). */
    maxBatchBytes: z.number().check(z.int(), z.gte(256), z.lte(1_000_000)),
    /**
     * Sent as the pipeline's `stride`: an input longer than the model's window is read in overlapping
     * windows instead of being cut. Needs a fast tokenizer on the endpoint.
     */
    stride: z.optional(z.number().check(z.int(), z.gte(1), z.lte(256))),
    /**
     * Masker types for the model's entity groups, added to the built-in map (PER, PS -> NAME; LOC, LC
     * -> ADDRESS); e.g. `{ OG: 'ORGANIZATION' }` to mask organisations too.
     */
    entityTypes: z.optional(z.record(z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'must be an entity group such as PER or OG')), z.string().check(z.regex(/^[A-Z][A-Z0-9_]{0,39}$/, 'must be an upper-case type such as NAME')))),
  }).check(z.superRefine((d, ctx) => {
    if (d.maxBatchBytes < d.maxTextBytes) {
      ctx.addIssue({ code: 'custom', path: ['maxBatchBytes'], message: `must be at least maxTextBytes (${d.maxTextBytes}), or no input fits a call` });
    }
  }));
export type EntityDetectorConfig = z.infer<typeof entityDetectorSchema>;

const nonBlank = z.string().check(z.maxLength(500), z.regex(/\S/, 'must not be empty'));

/**
 * An explicit, attributable acceptance that traces of one language are kept after the structured-PII
 * pattern detector alone (and Comprehend over their Latin-script passages), so names and addresses
 * written in that language are not masked. Who accepted it, where it is recorded, and why.
 */
export const patternOnlyRiskAcceptanceSchema = z.strictObject({
  language: languageCode,
  /** The accountable person or role (e.g. the data protection officer of the boundary). */
  acceptedBy: nonBlank,
  /** Where the decision is recorded (ticket, DPIA, minutes). */
  reference: nonBlank,
  /** Why the residual risk is acceptable. */
  reason: nonBlank,
});
export type PatternOnlyRiskAcceptance = z.infer<typeof patternOnlyRiskAcceptanceSchema>;

export const piiSchema = z.strictObject({
    /** Languages Amazon Comprehend DetectPiiEntities scans (it supports only en and es). */
    comprehendLanguages: z.array(z.enum(['en', 'es'])).check(z.minLength(1)),
    /** A named-entity detector per language Comprehend does not read, by language code (e.g. `ko`). */
    entityDetectors: z.record(languageCode, entityDetectorSchema),
    /**
     * Languages whose traces may be kept without a named-entity detector, each with its risk
     * acceptance. Every other language without a detector is discarded: patterns cannot find names and
     * addresses.
     */
    patternOnlyRiskAcceptances: z.array(patternOnlyRiskAcceptanceSchema),
    /** Replaced by `patternOnlyRiskAcceptances`; refused so that an old stage file cannot pass unnoticed. */
    patternOnlyLanguages: z.optional(z.never({ error: 'replaced by patternOnlyRiskAcceptances (language, acceptedBy, reference, reason), or configure entityDetectors for the language' })),
    /** Language assumed for Latin-script text that declares none (non-Latin scripts are recognised). */
    undeclaredLanguage: languageCode,
    /** Entities below this Comprehend confidence are left unmasked. */
    minScore: z.number().check(z.gte(0), z.lte(1)),
    /** Attempts per detector call before the traces in it are discarded (throttling, 5xx). */
    maxAttempts: z.number().check(z.int(), z.gte(1), z.lte(10)),
    /** Detector calls in flight at once from one Lambda invocation (keep at or under the account TPS). */
    maxConcurrentCalls: z.number().check(z.int(), z.gte(1), z.lte(50)),
  }).check(z.superRefine((pii, ctx) => {
    const comprehend = new Set<string>(pii.comprehendLanguages);
    for (const language of Object.keys(pii.entityDetectors)) {
      if (comprehend.has(language)) {
        ctx.addIssue({ code: 'custom', path: ['entityDetectors', language], message: `${language} is a Comprehend language; an entity detector is for languages Comprehend does not read` });
      }
    }
    const accepted = new Set<string>();
    pii.patternOnlyRiskAcceptances.forEach((acceptance, i) => {
      const { language } = acceptance;
      let problem: string | undefined;
      if (comprehend.has(language)) problem = `${language} is a Comprehend language; it needs no pattern-only acceptance`;
      else if (pii.entityDetectors[language] !== undefined) problem = `${language} has an entity detector; a pattern-only acceptance would be dead and misleading`;
      else if (accepted.has(language)) problem = `${language} is accepted twice; keep one acceptance per language`;
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['patternOnlyRiskAcceptances', i, 'language'], message: problem });
      accepted.add(language);
    });
  }));

export type PiiConfig = z.infer<typeof piiSchema>;
