import { loadStageConfig } from '../../config';
import { ConfigError, parseSageMakerEndpoint, parseStageConfig, type PatternOnlyRiskAcceptance, type StageConfig } from '../../config/schema';
import { dev } from '../../config/stages/dev';
import { prodKr } from '../../config/stages/prod-kr';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { gateConfigDigest, gateConfigFromStage, parseGateConfig } from '../../lambdas/gate-score/gate-config';

const parse = (raw: unknown) => () => parseStageConfig(raw, 'test');
const withPii = (stage: StageConfig, pii: Record<string, unknown>) => ({ ...stage, pii: { ...stage.pii, ...pii } });
const KO_NER = prodKr.pii.entityDetectors.ko!;
const acceptance: PatternOnlyRiskAcceptance = {
  language: 'ko',
  acceptedBy: 'KR data protection officer',
  reference: 'DPIA-2026-014',
  reason: 'Korean traces are kept with structured-PII masking only until the Korean NER endpoint is live.',
};

describe('PII settings per language', () => {
  it('ships prod-kr with a Korean entity detector and no pattern-only acceptance', () => {
    const config = loadStageConfig('prod-kr');
    expect(Object.keys(config.pii.entityDetectors)).toEqual(['ko']);
    expect(config.pii.entityDetectors.ko).toMatchObject({ kind: 'sagemaker-endpoint', endpoint: 'sial-prod-kr-pii-ner-ko' });
    expect(config.pii.patternOnlyRiskAcceptances).toEqual([]);
  });

  it('accepts a complete pattern-only risk acceptance', () => {
    expect(parse(withPii(dev, { patternOnlyRiskAcceptances: [acceptance] }))().pii.patternOnlyRiskAcceptances).toEqual([acceptance]);
  });

  it.each(['acceptedBy', 'reference', 'reason'] as const)('refuses an acceptance whose %s is empty or blank', (field) => {
    for (const value of ['', '   ']) {
      const raw = withPii(dev, { patternOnlyRiskAcceptances: [{ ...acceptance, [field]: value }] });
      expect(parse(raw)).toThrow(ConfigError);
      expect(parse(raw)).toThrow(new RegExp(`pii\\.patternOnlyRiskAcceptances\\.0\\.${field}: received "${value}"; must not be empty`));
    }
  });

  it('refuses an acceptance with a field missing', () => {
    const { reference: _reference, ...incomplete } = acceptance;
    expect(parse(withPii(dev, { patternOnlyRiskAcceptances: [incomplete] }))).toThrow(/pii\.patternOnlyRiskAcceptances\.0\.reference: received nothing \(the field is missing\)/);
  });

  it('refuses acceptances that would be dead or ambiguous', () => {
    expect(parse(withPii(dev, { patternOnlyRiskAcceptances: [{ ...acceptance, language: 'en' }] }))).toThrow(/patternOnlyRiskAcceptances\.0\.language: .*en is a Comprehend language/);
    expect(parse(withPii(prodKr, { patternOnlyRiskAcceptances: [acceptance] }))).toThrow(/patternOnlyRiskAcceptances\.0\.language: .*ko has an entity detector/);
    expect(parse(withPii(dev, { patternOnlyRiskAcceptances: [acceptance, acceptance] }))).toThrow(/patternOnlyRiskAcceptances\.1\.language: .*ko is accepted twice/);
  });

  it('refuses the old bare pattern-only language list, saying what replaced it', () => {
    expect(parse(withPii(dev, { patternOnlyLanguages: ['ko'] }))).toThrow(/pii\.patternOnlyLanguages: received \["ko"\]; replaced by patternOnlyRiskAcceptances/);
  });

  it('refuses an entity detector for a Comprehend language', () => {
    expect(parse(withPii(dev, { entityDetectors: { en: KO_NER } }))).toThrow(/pii\.entityDetectors\.en: .*en is a Comprehend language/);
  });

  it('refuses batch limits no input fits, and out-of-range limits', () => {
    expect(parse(withPii(prodKr, { entityDetectors: { ko: { ...KO_NER, maxBatchBytes: 1_000 } } }))).toThrow(/pii\.entityDetectors\.ko\.maxBatchBytes: received 1000; must be at least maxTextBytes \(1500\)/);
    expect(parse(withPii(prodKr, { entityDetectors: { ko: { ...KO_NER, maxTextBytes: 10 } } }))).toThrow(/pii\.entityDetectors\.ko\.maxTextBytes: received 10/);
    expect(parse(withPii(prodKr, { entityDetectors: { ko: { ...KO_NER, minScore: 1.5 } } }))).toThrow(/pii\.entityDetectors\.ko\.minScore: received 1\.5/);
  });

  describe('the endpoint stays inside the stage', () => {
    const arn = (region: string, account: string) => `arn:aws:sagemaker:${region}:${account}:endpoint/ner-ko`;
    const pinned = { ...prodKr, account: '123456789012' };
    const endpoint = (stage: StageConfig, value: string) => withPii(stage, { entityDetectors: { ko: { ...KO_NER, endpoint: value } } });

    it('accepts a name, or an ARN in the stage region and pinned account', () => {
      expect(parse(endpoint(prodKr, 'ner-ko'))().pii.entityDetectors.ko?.endpoint).toBe('ner-ko');
      expect(parse(endpoint(pinned, arn('ap-northeast-2', '123456789012')))().pii.entityDetectors.ko?.endpoint).toBe(arn('ap-northeast-2', '123456789012'));
    });

    it('refuses an endpoint in another region', () => {
      expect(parse(endpoint(pinned, arn('us-east-1', '123456789012')))).toThrow(
        /pii\.entityDetectors\.ko\.endpoint: received "arn:aws:sagemaker:us-east-1:123456789012:endpoint\/ner-ko"; the endpoint must be in the stage's region ap-northeast-2/,
      );
    });

    it('refuses an endpoint in another account, and an ARN a stage without a pinned account cannot check', () => {
      expect(parse(endpoint(pinned, arn('ap-northeast-2', '210987654321')))).toThrow(/the endpoint must be in the stage's account 123456789012/);
      expect(parse(endpoint(prodKr, arn('ap-northeast-2', '123456789012')))).toThrow(/the stage pins no account, so an ARN's account cannot be checked: give the endpoint name/);
    });

    it('refuses something that is neither a name nor an endpoint ARN', () => {
      expect(parse(endpoint(prodKr, 'https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/x'))).toThrow(/must be a SageMaker endpoint name or endpoint ARN/);
      expect(parse(endpoint(prodKr, 'arn:aws:sagemaker:ap-northeast-2:123456789012:model/ner-ko'))).toThrow(/must be a SageMaker endpoint name or endpoint ARN/);
      expect(() => parseSageMakerEndpoint('not an endpoint')).toThrow(/neither a SageMaker endpoint name nor an endpoint ARN/);
    });
  });

  it('the gate validates these rules at synthesis, and its cold start refuses a GATE_CONFIG edited after it (digest)', () => {
    const tables = { databaseName: 'db', tracesTable: 'traces', auditTable: 'gate_audit' };
    const gate = gateConfigFromStage(prodKr, readRewardPolicy('v1'), tables);
    const json = JSON.stringify(gate);
    expect(parseGateConfig(json, gateConfigDigest(json)).pii).toEqual(prodKr.pii);
    // The same rule refuses the broken acceptance at synthesis, naming the field ...
    const broken = { ...prodKr, pii: { ...prodKr.pii, entityDetectors: {}, patternOnlyRiskAcceptances: [{ ...acceptance, acceptedBy: ' ' }] } };
    expect(() => gateConfigFromStage(broken, readRewardPolicy('v1'), tables)).toThrow(
      /The gate configuration is invalid: pii\.patternOnlyRiskAcceptances\.0\.acceptedBy: must not be empty/,
    );
    // ... and the cold start refuses it edited into the environment, whose digest no longer matches.
    const tampered = JSON.stringify({ ...gate, pii: { ...gate.pii, entityDetectors: {}, patternOnlyRiskAcceptances: [{ ...acceptance, acceptedBy: ' ' }] } });
    expect(() => parseGateConfig(tampered, gateConfigDigest(json))).toThrow(/^GATE_CONFIG changed after synthesis: its SHA-256 is not GATE_CONFIG_SHA256; .*redeploy/);
    expect(() => parseGateConfig(`${json} `, gateConfigDigest(json))).toThrow(/GATE_CONFIG changed after synthesis/);
    expect(() => parseGateConfig(json, undefined)).toThrow(/^GATE_CONFIG_SHA256 is not set/);
    expect(() => parseGateConfig(json, '')).toThrow(/^GATE_CONFIG_SHA256 is not set/);
    expect(() => parseGateConfig(undefined, gateConfigDigest(json))).toThrow(/^GATE_CONFIG is not set/);
    expect(parseGateConfig(json, gateConfigDigest(json).toUpperCase())).toEqual(gate);
  });
});
