import fc from 'fast-check';
import { dev } from '../../config/stages/dev';
import { scanAndMaskTraces } from '../../lambdas/gate-score/pii/pii-scan';
import { MAX_SAFE_REASON_CHARS, UNSAFE_CODE_REASON, WITHHELD_DETAIL, isSafeReason, safeReason } from '../../lambdas/gate-score/reasons';
import type { DetectorLanguage, PiiEntity, PiiEntityDetector } from '../../lambdas/shared/ports';
import { makeTrace } from '../helpers/trace-factory';

describe('safeReason', () => {
  it.each([
    'consent_withheld: consent=false',
    'outside_boundary: EU trace in the US deployment',
    'invalid_utf8: the record is not valid UTF-8',
    'record_too_large: 1100565 bytes, the limit is 1024000',
    'invalid_field: tool_calls[0].name (from TOOL observations): may contain only letters, digits and . _ : / -',
    'missing_field: agent_id (from metadata.agent_id, else name): required (expected string); (+3 more)',
    'invalid_field: resourceSpans[0].scopeSpans[0].spans[0].attributes[2].value.intValue: integer outside the exactly representable range (+-2^53)',
    'unsupported_language: de',
    'pii_scan_failed: TransientDetectorError (ThrottlingException)',
    'duplicate',
  ])('keeps the project\'s own reasons as they are: %s', (reason) => {
    expect(safeReason(reason)).toBe(reason);
    expect(isSafeReason(reason)).toBe(true);
  });

  it.each([
    ['an e-mail address', 'invalid_field: (root): unrecognised key(s) jane.doe@example.com'],
    ['a phone number with separators', 'invalid_field: (root): unrecognised key(s) 415-555-0123'],
    ['an E.164 number', 'pii_scan_failed: ValidationException: text +14155550123 is invalid'],
    ['a phone number without separators', 'invalid_field: (root): unrecognised key(s) ?14155550123'],
    ['a KR mobile number', 'unsupported_language: 010-1234-5678'],
    ['a URL-encoded address', 'invalid_field: jane%40example.com'],
    ['a quote', 'invalid_field: "Jane"'],
    ['a control character', 'invalid_field: a\nb'],
    ['non-ASCII text', 'invalid_field: 홍길동'],
  ])('withholds a detail that holds %s, keeping the code', (_what, reason) => {
    const code = reason.slice(0, reason.indexOf(':'));
    expect(safeReason(reason)).toBe(`${code}: ${WITHHELD_DETAIL}`);
  });

  it('withholds a reason over the length bound', () => {
    expect(safeReason(`invalid_field: ${'x'.repeat(MAX_SAFE_REASON_CHARS)}`)).toBe(`invalid_field: ${WITHHELD_DETAIL}`);
  });

  it.each(['Jane Doe: hello', 'jane@example.com', 'a14155550123: x', 'x'.repeat(60), '', ': no code'])('replaces a reason whose code is not a code: %j', (reason) => {
    expect(safeReason(reason)).toBe(UNSAFE_CODE_REASON);
  });

  it('returns only reasons that pass its own check, whatever it is given', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (reason) => isSafeReason(safeReason(reason))),
      { numRuns: 3_000 },
    );
  });
});

describe('PII scan failure reasons', () => {
  class QuotingDetector implements PiiEntityDetector {
    readonly name = 'quoting';
    readonly maxTextBytes = 100_000;
    async detect(text: string, _language: DetectorLanguage): Promise<readonly PiiEntity[]> {
      // Service validation errors echo the input they refused.
      throw Object.assign(new Error(`1 validation error detected: Value '${text}' at 'text' failed to satisfy constraint`), { name: 'ValidationException' });
    }
  }

  it('keep the error name and drop the message, which can quote the scanned text', async () => {
    const trace = makeTrace({ output: 'Call Jane Doe on +1 415 555 0123 or jane.doe@example.com' });
    const [outcome] = await scanAndMaskTraces([{ key: 'r0', trace }], { detector: new QuotingDetector(), config: dev.pii, sleep: async () => undefined });
    expect(outcome).toEqual({ key: 'r0', status: 'discarded', reason: 'pii_scan_failed: ValidationException' });
  });
});
