/**
 * Composes the detector the PII gate receives: a primary detector (Amazon Comprehend, or its local
 * simulation) with the detectors of languages it does not read beside it. The gate's callers pass one
 * `PiiEntityDetector`; the gate finds the others in its `languageDetectors`.
 */
import type { PiiEntityDetector } from './ports';

/**
 * A detector that behaves as `primary` (same name, limits and calls, delegated, so the primary's own
 * counters keep counting) and carries `detectors` as its `languageDetectors`. With no detectors it is
 * `primary` itself.
 */
export function withLanguageDetectors<L extends string>(
  primary: PiiEntityDetector<L>,
  detectors: Readonly<Record<string, PiiEntityDetector<string>>>,
): PiiEntityDetector<L> {
  if (Object.keys(detectors).length === 0) return primary;
  const composed: PiiEntityDetector<L> = {
    name: primary.name,
    maxTextBytes: primary.maxTextBytes,
    detect: (text, language) => primary.detect(text, language),
    languageDetectors: { ...primary.languageDetectors, ...detectors },
  };
  if (primary.detectBatch !== undefined && primary.batchLimits !== undefined) {
    const detectBatch = primary.detectBatch.bind(primary);
    return { ...composed, batchLimits: primary.batchLimits, detectBatch: (texts, language) => detectBatch(texts, language) };
  }
  return composed;
}
