/**
 * Resolves the language a trace is scanned in, which decides its PII route (Comprehend, pattern-only,
 * or discard). Pure.
 *
 * 1. The declared `language` tag, reduced to its primary subtag ("en-US" -> "en", "zh-Hant" -> "zh");
 *    common ISO 639-2/3 codes are folded to their 639-1 form ("kor" -> "ko") so that config lists of
 *    two-letter codes match. A declaration the text contradicts (another script; for a declared
 *    Comprehend language, Latin function words that clearly point to another language) is overruled
 *    by the text, since the language decides which model looks for names.
 * 2. Otherwise the script of a sample of the text: the script with the most letters wins, so a
 *    Korean conversation that quotes an English product name is Korean, and the reverse is English.
 *    Han, Kana and Hangul are counted together against other scripts, then told apart: any Kana
 *    makes it Japanese (Japanese mixes Kana and Han), any Hangul Korean, Han alone Chinese.
 * 3. Latin script: the language its function words point to (latin-language.ts), so undeclared
 *    German is routed as German (discarded unless allowed), never scanned as English.
 * 4. Otherwise (words that do not decide, or no letters at all) the stage's `undeclaredLanguage`.
 *
 * The script is read from the conversation first (user, assistant and tool messages, then the
 * output): system prompts and retrieved documents are often in another language than the user's,
 * and it is the user's language whose PII we must be able to read. Only a conversation without any
 * letters falls back to the rest (system prompts, contexts, tool payloads). Each sample is at most
 * `SCRIPT_SAMPLE_CHARS` UTF-16 units, enough to be sure and cheap at any trace size.
 */
import type { PiiConfig } from '../../../config/schema';
import type { Trace } from '../trace';
import { guessLatinLanguage } from './latin-language';
import { utf8ByteLength } from './unicode';

/** How many UTF-16 units of text the script check looks at. */
export const SCRIPT_SAMPLE_CHARS = 2_000;

/** ISO 639-2/B, 639-2/T and 639-3 codes folded to the 639-1 codes the stage config uses. */
const THREE_LETTER_CODES: Readonly<Record<string, string>> = {
  eng: 'en',
  spa: 'es',
  kor: 'ko',
  jpn: 'ja',
  zho: 'zh',
  chi: 'zh',
  cmn: 'zh',
  yue: 'zh',
  rus: 'ru',
  ara: 'ar',
  deu: 'de',
  ger: 'de',
  fra: 'fr',
  fre: 'fr',
  ita: 'it',
  por: 'pt',
  nld: 'nl',
  dut: 'nl',
  heb: 'he',
  ell: 'el',
  gre: 'el',
  tha: 'th',
  hin: 'hi',
  ukr: 'uk',
};

/** Scripts the check tells apart, and the language each stands for. */
type Script = 'latin' | 'cjk' | 'cyrillic' | 'arabic' | 'hebrew' | 'greek' | 'thai' | 'devanagari';

const SCRIPT_LANGUAGE: Readonly<Record<Exclude<Script, 'latin' | 'cjk'>, string>> = {
  cyrillic: 'ru',
  arabic: 'ar',
  hebrew: 'he',
  greek: 'el',
  thai: 'th',
  devanagari: 'hi',
};

/** Where the resolved language came from (for logs and tests). */
export type LanguageSource = 'declared' | 'script' | 'words' | 'default';

/** A resolved language and its source. */
export interface ResolvedLanguage {
  readonly language: string;
  readonly source: LanguageSource;
}

/** The primary subtag of a BCP 47 tag, lower-cased, with three-letter codes folded to two. */
export function primaryLanguage(tag: string): string {
  const primary = (tag.split('-')[0] ?? '').toLowerCase();
  return THREE_LETTER_CODES[primary] ?? primary;
}

/**
 * The language a sample's script implies, or undefined for Latin script or text without letters
 * (which the caller maps to the configured default).
 */
export function detectScriptLanguage(sample: string): string | undefined {
  return classifyScript(sample).language;
}

const ASCII_LETTER = /[A-Za-z]/;

/** The language a sample's script implies (undefined for Latin) and a count of its letters (for ASCII, 1 when it has any: only none versus some matters). */
function classifyScript(sample: string): { language: string | undefined; letters: number } {
  // Pure ASCII (one native length check): Latin script or no letters; counting them would cost a
  // loop over the sample on most traces. Only "any letters at all" matters to the caller.
  if (utf8ByteLength(sample) === sample.length) return { language: undefined, letters: ASCII_LETTER.test(sample) ? 1 : 0 };
  const counts: Record<Script, number> = { latin: 0, cjk: 0, cyrillic: 0, arabic: 0, hebrew: 0, greek: 0, thai: 0, devanagari: 0 };
  let hangul = 0;
  let kana = 0;
  const limit = Math.min(sample.length, SCRIPT_SAMPLE_CHARS);
  for (let i = 0; i < limit; i += 1) {
    const u = sample.charCodeAt(i);
    if (u < 0x80) {
      if ((u >= 0x41 && u <= 0x5a) || (u >= 0x61 && u <= 0x7a)) counts.latin += 1;
    } else if (u <= 0x024f || (u >= 0x1e00 && u <= 0x1eff)) {
      if (u >= 0xc0 && u !== 0xd7 && u !== 0xf7) counts.latin += 1;
    } else if (u >= 0x0370 && u <= 0x03ff) counts.greek += 1;
    else if (u >= 0x0400 && u <= 0x052f) counts.cyrillic += 1;
    else if (u >= 0x0590 && u <= 0x05ff) counts.hebrew += 1;
    else if ((u >= 0x0600 && u <= 0x06ff) || (u >= 0x0750 && u <= 0x077f) || (u >= 0xfb50 && u <= 0xfdff) || (u >= 0xfe70 && u <= 0xfeff)) {
      counts.arabic += 1;
    } else if (u >= 0x0900 && u <= 0x097f) counts.devanagari += 1;
    else if (u >= 0x0e00 && u <= 0x0e7f) counts.thai += 1;
    else if ((u >= 0x1100 && u <= 0x11ff) || (u >= 0x3130 && u <= 0x318f) || (u >= 0xac00 && u <= 0xd7af)) {
      hangul += 1;
      counts.cjk += 1;
    } else if ((u >= 0x3040 && u <= 0x30ff) || (u >= 0x31f0 && u <= 0x31ff) || (u >= 0xff66 && u <= 0xff9f)) {
      kana += 1;
      counts.cjk += 1;
    } else if ((u >= 0x4e00 && u <= 0x9fff) || (u >= 0x3400 && u <= 0x4dbf) || (u >= 0xf900 && u <= 0xfaff)) {
      counts.cjk += 1;
    }
  }

  let best: Script = 'latin';
  let bestCount = 0;
  let letters = 0;
  for (const script of Object.keys(counts) as Script[]) {
    // Strictly greater, and Latin is visited first: a tie between Latin and another script goes
    // to the other script, whose text Comprehend cannot read.
    const count = counts[script];
    letters += count;
    if (count > bestCount || (count === bestCount && count > 0 && best === 'latin')) {
      best = script;
      bestCount = count;
    }
  }
  if (bestCount === 0 || best === 'latin') return { language: undefined, letters };
  if (best === 'cjk') {
    if (kana > 0 && kana >= hangul) return { language: 'ja', letters };
    return { language: hangul > 0 ? 'ko' : 'zh', letters };
  }
  return { language: SCRIPT_LANGUAGE[best], letters };
}

/**
 * Joins texts with newlines up to `maxChars` UTF-16 units, skipping empty ones. Plain loops and string
 * concatenation rather than a generator and an array join: this runs on every trace.
 */
class Sample {
  text = '';
  private length = 0;
  constructor(private readonly maxChars: number) {}

  /** Adds a text; false once the sample is full. */
  add(text: string | undefined): boolean {
    if (text === undefined || text.length === 0) return this.length < this.maxChars;
    const slice = text.length > this.maxChars - this.length ? text.slice(0, this.maxChars - this.length) : text;
    this.text = this.length === 0 ? slice : `${this.text}\n${slice}`;
    this.length += slice.length + 1;
    return this.length < this.maxChars;
  }
}

/** The beginning of the conversation: non-system messages, then the output. */
export function conversationSample(trace: Trace, maxChars: number = SCRIPT_SAMPLE_CHARS): string {
  const sample = new Sample(maxChars);
  for (const m of trace.input_messages) if (m.role !== 'system' && !sample.add(m.content)) return sample.text;
  sample.add(trace.output);
  return sample.text;
}

/** The beginning of the rest: system prompts, retrieved contexts, tool arguments and results. */
export function supportingSample(trace: Trace, maxChars: number = SCRIPT_SAMPLE_CHARS): string {
  const sample = new Sample(maxChars);
  for (const m of trace.input_messages) if (m.role === 'system' && !sample.add(m.content)) return sample.text;
  for (const context of trace.retrieved_contexts) if (!sample.add(context)) return sample.text;
  for (const t of trace.tool_calls) if (!sample.add(t.arguments) || !sample.add(t.result)) return sample.text;
  return sample.text;
}

/** Resolves a trace's language and says where it came from (see the module comment). */
export function resolveLanguageDetailed(trace: Trace, config: LanguageSettings): ResolvedLanguage {
  if (trace.language !== undefined && trace.language.length > 0) return checkedDeclaration(trace, primaryLanguage(trace.language), config);
  let sample = conversationSample(trace);
  let script = classifyScript(sample);
  if (script.letters === 0) {
    sample = supportingSample(trace);
    script = classifyScript(sample);
  }
  if (script.language !== undefined) return { language: script.language, source: 'script' };
  const byWords = script.letters > 0 ? guessLatinLanguage(sample) : undefined;
  if (byWords !== undefined) return { language: byWords, source: 'words' };
  return { language: config.undeclaredLanguage, source: 'default' };
}

/** What language resolution reads from the stage's PII settings. */
export type LanguageSettings = Pick<PiiConfig, 'undeclaredLanguage'> & Partial<Pick<PiiConfig, 'comprehendLanguages'>>;

/**
 * A declared language, overruled where the text contradicts it in the direction that reads more
 * carefully: a trace declared `en` but written in Hangul, or in German, would otherwise be read by an
 * English model, which finds no names in it. A non-Latin script that dominates the conversation
 * overrules any declaration; Latin function words that clearly point elsewhere (the bar used for
 * undeclared text) overrule only a declared Comprehend language. A declared language that no model
 * reads is never overruled into one that is read (discarding stays the outcome).
 */
function checkedDeclaration(trace: Trace, declared: string, settings: LanguageSettings): ResolvedLanguage {
  const sample = conversationSample(trace);
  const script = classifyScript(sample);
  if (script.language !== undefined && script.language !== declared) return { language: script.language, source: 'script' };
  const comprehendDeclared = (settings.comprehendLanguages as readonly string[] | undefined)?.includes(declared) ?? false;
  if (comprehendDeclared && script.language === undefined && script.letters > 0) {
    const byWords = guessLatinLanguage(sample);
    if (byWords !== undefined && byWords !== declared) return { language: byWords, source: 'words' };
  }
  return { language: declared, source: 'declared' };
}

/** Resolves a trace's language: declared, else by script, else by function words, else the stage's `undeclaredLanguage`. */
export function resolveTraceLanguage(trace: Trace, config: LanguageSettings): string {
  return resolveLanguageDetailed(trace, config).language;
}
