import { boundaryOfRegion } from '../../config/boundaries';
import { checkConfidentiality } from '../../lambdas/gate-score/gates/confidentiality-gate';
import { checkConsent } from '../../lambdas/gate-score/gates/consent-gate';
import { checkRegion } from '../../lambdas/gate-score/gates/region-gate';
import { reasonCode } from '../../lambdas/gate-score/gates/verdict';
import { makeTrace } from '../helpers/trace-factory';

describe('regional boundary gate', () => {
  it('keeps a trace from a region of the stage boundary', () => {
    expect(checkRegion(makeTrace({ data_region: 'eu-west-1' }), 'EU')).toBeUndefined();
    expect(checkRegion(makeTrace({ data_region: 'EU' }), 'EU')).toBeUndefined();
  });

  it('discards a trace from another boundary, naming both boundaries', () => {
    const discard = checkRegion(makeTrace({ data_region: 'ap-northeast-2' }), 'EU');
    expect(discard).toEqual({ gate: 'region', reason: 'outside_boundary: KR trace in the EU deployment' });
  });

  it('fails closed on a missing or unknown region', () => {
    expect(checkRegion(makeTrace({ data_region: undefined }), 'US')?.reason).toMatch(/^missing_region:/);
    expect(checkRegion(makeTrace({ data_region: 'mars-north-1' }), 'US')?.reason).toMatch(/^unknown_region:/);
  });

  it('maps regions and boundary names case-insensitively', () => {
    expect(boundaryOfRegion('EU-CENTRAL-1')).toBe('EU');
    expect(boundaryOfRegion('kr')).toBe('KR');
    expect(boundaryOfRegion('us-west-2')).toBe('US');
    expect(boundaryOfRegion('ap-southeast-1')).toBeUndefined();
  });
});

describe('consent gate', () => {
  it('keeps only consent=true', () => {
    expect(checkConsent(makeTrace({ consent: true }))).toBeUndefined();
    expect(checkConsent(makeTrace({ consent: false }))).toEqual({ gate: 'consent', reason: 'consent_withheld: consent=false' });
    expect(reasonCode(checkConsent(makeTrace({ consent: undefined }))!.reason)).toBe('missing_consent');
  });
});

describe('confidentiality gate', () => {
  it.each([
    ['public', 'all-models'],
    ['internal', 'all-models'],
    ['customer-confidential', 'internal-only-models'],
    ['internal-only', 'internal-only-models'],
  ] as const)('tags %s traces for %s', (level, scope) => {
    expect(checkConfidentiality(makeTrace({ confidentiality: level }))).toEqual({ kept: true, level, scope });
  });

  it('treats an unlabelled trace as customer-confidential (most restrictive trainable level)', () => {
    expect(checkConfidentiality(makeTrace({ confidentiality: undefined }))).toEqual({
      kept: true,
      level: 'customer-confidential',
      scope: 'internal-only-models',
    });
  });

  it('never keeps restricted traces', () => {
    const verdict = checkConfidentiality(makeTrace({ confidentiality: 'restricted' }));
    expect(verdict.kept).toBe(false);
    if (!verdict.kept) expect(verdict.discard.gate).toBe('confidentiality');
  });
});
