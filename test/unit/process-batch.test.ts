import { dev } from '../../config/stages/dev';
import { prodKr } from '../../config/stages/prod-kr';
import { readRewardPolicy } from '../../config/reward-policies/read';
import type { FirehoseInputRecord } from '../../lambdas/gate-score/firehose-records';
import { gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import { processBatch } from '../../lambdas/gate-score/process-batch';
import type { StageConfig } from '../../config/schema';
import { withLanguageDetectors } from '../../lambdas/shared/language-detectors';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import { simulatedEntityDetectors } from '../../local/simulated-korean-ner';
import { hostileCorpus } from '../helpers/hostile-corpus';
import { makeTrace } from '../helpers/trace-factory';

const tables = { databaseName: 'db', tracesTable: 'traces', auditTable: 'gate_audit' };
const configFor = (stage: StageConfig) => gateConfigFromStage(stage, readRewardPolicy('v1'), tables);
const now = () => new Date('2026-11-21T12:00:00.000Z');

function records(buffers: Buffer[]): FirehoseInputRecord[] {
  return buffers.map((data, i) => ({ recordId: `r${i}`, data: data.toString('base64') }));
}

describe('processBatch over the hostile corpus', () => {
  const corpus = hostileCorpus();

  it('explains every record that is not delivered, with the expected reason code', async () => {
    const detector = new SimulatedComprehendDetector();
    const outcome = await processBatch(records(corpus.map((c) => c.data)), { config: configFor(dev), detector, now });
    corpus.forEach((hostile, i) => {
      const diagnostic = outcome.diagnostics.find((d) => d.recordId === `r${i}`);
      expect([hostile.name, typeof diagnostic?.reason]).toEqual([hostile.name, 'string']);
      if (hostile.reasonCode !== undefined) {
        expect([hostile.name, diagnostic?.reason]).toEqual([hostile.name, expect.stringContaining(`${hostile.reasonCode}:`)]);
      }
      // Reasons are logged and audited: they must never quote record content.
      expect(diagnostic?.reason).not.toMatch(/polluted|DROP TABLE|jane/i);
    });
  });

  it('counts every record exactly once, per result and per reason', async () => {
    const outcome = await processBatch(records(corpus.map((c) => c.data)), { config: configFor(dev), detector: new SimulatedComprehendDetector(), now });
    const { report } = outcome;
    expect(report.recordsIn).toBe(corpus.length);
    expect(report.delivered + report.discarded + report.failed + report.duplicates).toBe(corpus.length);
    expect(report.failed).toBe(corpus.filter((c) => c.expected === 'failed').length);
    expect([...report.failuresByReason.values()].reduce((a, b) => a + b, 0)).toBe(report.failed);
    const discardCount = [...report.discardsByGateReason.values()].reduce((a, d) => a + d.count, 0);
    expect(discardCount).toBe(report.discarded);
    expect(report.discardsByGateReason.get('consent/consent_withheld')?.count).toBe(2);
  });
});

describe('processBatch per stage', () => {
  it('keeps Korean traces in prod-kr through its Korean entity detector, and masks the name and the RRN', async () => {
    const trace = makeTrace({
      data_region: 'ap-northeast-2',
      language: 'ko',
      input_messages: [{ role: 'user', content: '제 이름은 김민수이고 주민등록번호는 900101-1234568 이고 전화는 010-1234-5678 입니다.' }],
      retrieved_contexts: [],
      output: '확인했습니다.',
    });
    const detector = withLanguageDetectors(new SimulatedComprehendDetector(), simulatedEntityDetectors(prodKr.pii));
    const outcome = await processBatch(records([Buffer.from(JSON.stringify(trace))]), { config: configFor(prodKr), detector, now });
    const record = outcome.records[0]!;
    expect(record.result).toBe('Ok');
    const row = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'));
    expect(row.pii_scanner).toBe('korean-ner-simulated');
    expect(row.input_messages[0].content).toBe('제 이름은 [NAME]이고 주민등록번호는 [KR_RRN] 이고 전화는 [PHONE] 입니다.');
    expect(row.data_boundary).toBe('KR');
  });

  it('discards Korean traces in prod-kr when its entity detector is not wired, rather than keep them on patterns', async () => {
    const trace = makeTrace({ data_region: 'ap-northeast-2', language: 'ko', input_messages: [{ role: 'user', content: '전화는 010-1234-5678 입니다.' }] });
    const outcome = await processBatch(records([Buffer.from(JSON.stringify(trace))]), { config: configFor(prodKr), detector: new SimulatedComprehendDetector(), now });
    expect(outcome.diagnostics[0]?.reason).toBe('pii: pii_scan_failed: no entity detector is wired for ko');
  });

  it('stamps the simulated detector name on rows it scanned, so local rows say they were simulated', async () => {
    const outcome = await processBatch(records([Buffer.from(JSON.stringify(makeTrace()))]), { config: configFor(dev), detector: new SimulatedComprehendDetector(), now });
    const row = JSON.parse(Buffer.from(outcome.records[0]!.data, 'base64').toString('utf8'));
    expect(row.pii_scanner).toBe('comprehend-simulated');
  });

  it('gives an empty batch an empty result', async () => {
    const outcome = await processBatch([], { config: configFor(dev), detector: new SimulatedComprehendDetector(), now });
    expect(outcome.records).toEqual([]);
    expect(outcome.report.recordsIn).toBe(0);
  });
});
