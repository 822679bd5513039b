/**
 * Which detectors read a trace, decided by its resolved language and the stage's PII settings. Pure.
 *
 * - a Comprehend language (`comprehendLanguages`): Comprehend reads every text, in that language;
 * - a language with an entity detector (`entityDetectors`): that detector reads every text, and
 *   Comprehend reads the Latin-script runs (latin-runs.ts);
 * - a language with a pattern-only risk acceptance (`patternOnlyRiskAcceptances`): the pattern
 *   detector, and Comprehend on the Latin-script runs;
 * - any other language: discarded (`unsupported_language: <lang>`), since nothing would find names
 *   and addresses in it.
 *
 * The pattern detector runs on every kept trace in addition (pii-scan.ts). A language configured with
 * an entity detector that the caller did not wire is a deployment fault: its traces fail closed
 * rather than fall back to patterns.
 */
import type { PiiConfig } from '../../../config/schema';
import type { DetectorLanguage, PiiEntityDetector } from '../../shared/ports';
import { guessLatinLanguage } from './latin-language';

/** How a trace of one language is scanned. */
export type LanguageRoute =
  | { readonly kind: 'comprehend'; readonly language: DetectorLanguage }
  | { readonly kind: 'entity-detector'; readonly detector: PiiEntityDetector<string>; readonly minScore: number }
  | { readonly kind: 'pattern-only' }
  | { readonly kind: 'discard'; readonly reason: string };

/** The route of a resolved language (see the module comment). */
export function routeLanguage(
  language: string,
  config: Pick<PiiConfig, 'comprehendLanguages' | 'entityDetectors' | 'patternOnlyRiskAcceptances'>,
  detectors: Readonly<Record<string, PiiEntityDetector<string>>>,
): LanguageRoute {
  if (isComprehendLanguage(language, config)) return { kind: 'comprehend', language };
  const configured = Object.prototype.hasOwnProperty.call(config.entityDetectors, language) ? config.entityDetectors[language] : undefined;
  if (configured !== undefined) {
    const detector = Object.prototype.hasOwnProperty.call(detectors, language) ? detectors[language] : undefined;
    if (detector === undefined) return { kind: 'discard', reason: `pii_scan_failed: no entity detector is wired for ${language}` };
    return { kind: 'entity-detector', detector, minScore: configured.minScore };
  }
  if (config.patternOnlyRiskAcceptances.some((acceptance) => acceptance.language === language)) return { kind: 'pattern-only' };
  return { kind: 'discard', reason: `unsupported_language: ${language}` };
}

/**
 * The Comprehend language to read a trace's Latin-script runs in: the one their function words point
 * to, else the stage's `undeclaredLanguage`, else the first Comprehend language. Always a Comprehend
 * language: the runs are a second opinion beside the trace language's own scanning, and reading a
 * German fragment with the English model still finds more than not reading it.
 */
export function latinRunLanguage(sample: string, config: Pick<PiiConfig, 'comprehendLanguages' | 'undeclaredLanguage'>): DetectorLanguage {
  const guess = guessLatinLanguage(sample);
  if (guess !== undefined && isComprehendLanguage(guess, config)) return guess;
  if (isComprehendLanguage(config.undeclaredLanguage, config)) return config.undeclaredLanguage;
  // The schema requires at least one Comprehend language.
  return config.comprehendLanguages[0] ?? 'en';
}

function isComprehendLanguage(language: string, config: Pick<PiiConfig, 'comprehendLanguages'>): language is DetectorLanguage {
  return (config.comprehendLanguages as readonly string[]).includes(language);
}
