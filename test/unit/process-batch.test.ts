import { dev } from '../../config/stages/dev';
import { prodKr } from '../../config/stages/prod-kr';
import { readRewardPolicy } from '../../config/reward-policies/read';
import type { FirehoseInputRecord } from '../../lambdas/gate-score/firehose-records';
import { gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import { processBatch } from '../../lambdas/gate-score/process-batch';
import { agentPseudonym } from '../../lambdas/shared/agent-pseudonyms';
import type { StageConfig } from '../../config/schema';
import { withLanguageDetectors } from '../../lambdas/shared/language-detectors';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import { simulatedEntityDetectors } from '../../local/simulated-korean-ner';
import { hostileCorpus } from '../helpers/hostile-corpus';
import { makeTrace } from '../helpers/trace-factory';
import { testPseudonymiser } from '../helpers/pseudonymiser';
import { PLANTED_VALUES, plantedRecords } from '../helpers/planted-identifiers';
import type { PiiEntityDetector } from '../../lambdas/shared/ports';

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
    const outcome = await processBatch(records(corpus.map((c) => c.data)), { config: configFor(dev), detector, pseudonymiser: testPseudonymiser, now });
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
    const outcome = await processBatch(records(corpus.map((c) => c.data)), { config: configFor(dev), detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now });
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
    const outcome = await processBatch(records([Buffer.from(JSON.stringify(trace))]), { config: configFor(prodKr), detector, pseudonymiser: testPseudonymiser, now });
    const record = outcome.records[0]!;
    expect(record.result).toBe('Ok');
    const row = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'));
    expect(row.pii_scanner).toBe('korean-ner-simulated');
    expect(row.input_messages[0].content).toBe('제 이름은 [NAME]이고 주민등록번호는 [KR_RRN] 이고 전화는 [PHONE] 입니다.');
    expect(row.data_boundary).toBe('KR');
  });

  it('discards Korean traces in prod-kr when its entity detector is not wired, rather than keep them on patterns', async () => {
    const trace = makeTrace({ data_region: 'ap-northeast-2', language: 'ko', input_messages: [{ role: 'user', content: '전화는 010-1234-5678 입니다.' }] });
    const outcome = await processBatch(records([Buffer.from(JSON.stringify(trace))]), { config: configFor(prodKr), detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now });
    expect(outcome.diagnostics[0]?.reason).toBe('pii: pii_scan_failed: no entity detector is wired for ko');
  });

  it('stamps the simulated detector name on rows it scanned, so local rows say they were simulated', async () => {
    const outcome = await processBatch(records([Buffer.from(JSON.stringify(makeTrace()))]), { config: configFor(dev), detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now });
    const row = JSON.parse(Buffer.from(outcome.records[0]!.data, 'base64').toString('utf8'));
    expect(row.pii_scanner).toBe('comprehend-simulated');
  });

  it('gives an empty batch an empty result', async () => {
    const outcome = await processBatch([], { config: configFor(dev), detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now });
    expect(outcome.records).toEqual([]);
    expect(outcome.report.recordsIn).toBe(0);
  });
});

describe('processBatch and personal values in identifiers', () => {
  const planted = plantedRecords();

  it('lets no planted value into a row, a diagnostic or a metric key, and pseudonymises sessions', async () => {
    const outcome = await processBatch(records(planted.map((p) => p.data)), { config: configFor(dev), detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now });
    const rows = outcome.records.filter((r) => r.result === 'Ok').map((r) => Buffer.from(r.data, 'base64').toString('utf8'));
    const { report } = outcome;
    const metricKeys = [
      ...report.failuresByReason.keys(),
      ...report.discardsByGateReason.keys(),
      ...report.discardsByVariantGate.keys(),
      ...report.discardsByAgentGate.keys(),
      ...report.byVariant.keys(),
      ...report.byAgent.keys(),
    ];
    const surfaces = { rows: rows.join('\n'), diagnostics: JSON.stringify(outcome.diagnostics), metrics: metricKeys.join('\n') };
    for (const { needles } of PLANTED_VALUES) {
      for (const needle of needles) {
        for (const [surface, text] of Object.entries(surfaces)) expect([needle, surface, text.includes(needle)]).toEqual([needle, surface, false]);
      }
    }
    const sessions = rows.map((row) => (JSON.parse(row) as { session_id?: unknown }).session_id).filter((s) => s !== undefined);
    expect(sessions.length).toBeGreaterThan(0);
    for (const session of sessions) expect(session).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(report.failed).toBe(planted.filter((p) => p.target !== 'session_id' && p.target !== 'none').length);
  });

  it('writes only the error name of a scanner failure whose message quotes the text it was sent', async () => {
    const quoting: PiiEntityDetector = {
      name: 'quoting',
      maxTextBytes: 100_000,
      detect: async (text) => {
        throw Object.assign(new Error(`Value '${text}' failed to satisfy constraint`), { name: 'ValidationException' });
      },
    };
    const trace = makeTrace({ output: 'Reach Jane Doe at jane.doe@example.com or +1 415 555 0123.' });
    const outcome = await processBatch(records([Buffer.from(JSON.stringify(trace))]), { config: configFor(dev), detector: quoting, pseudonymiser: testPseudonymiser, now });
    const audit = JSON.parse(Buffer.from(outcome.records[0]!.data, 'base64').toString('utf8')) as Record<string, unknown>;
    expect(audit.reason).toBe('pii_scan_failed: ValidationException');
    expect(JSON.stringify(outcome.diagnostics)).not.toMatch(/Jane|jane\.doe|555/);
  });
});

describe('processBatch and the row guard', () => {
  it('fails a record whose row would hold a value its column does not allow, naming the column only', async () => {
    const detector = new SimulatedComprehendDetector();
    Object.defineProperty(detector, 'name', { value: 'scanner of jane.doe@example.com' });
    const outcome = await processBatch(records([Buffer.from(JSON.stringify(makeTrace({ trace_id: 'tr-guarded' })))]), { config: configFor(dev), detector, pseudonymiser: testPseudonymiser, now });
    expect(outcome.records[0]?.result).toBe('ProcessingFailed');
    expect(outcome.diagnostics).toEqual([
      { recordId: 'r0', traceId: 'tr-guarded', result: 'ProcessingFailed', reason: 'schema: unsafe_column: traces.pii_scanner failed its vocabulary rule; the record was not written' },
    ]);
    expect(outcome.report.failuresByReason.get('unsafe_column')).toBe(1);
  });
});

describe('processBatch with lake.hashAgentIds', () => {
  // gateConfigFromStage takes the option from the stage (the stage schema still refuses it: readers are not built).
  const hashed = gateConfigFromStage({ ...dev, lake: { ...dev.lake, hashAgentIds: true } }, readRewardPolicy('v1'), tables);
  const batch = () => [
    makeTrace({ agent_id: 'rag-qa-agent' }),
    makeTrace({ agent_id: 'acme-unlisted-hr-bot' }),
    makeTrace({ agent_id: 'rag-qa-agent', consent: false }),
    makeTrace({ agent_id: 'acme-unlisted-hr-bot', consent: false }),
  ];
  const rowsOf = (outcome: Awaited<ReturnType<typeof processBatch>>) =>
    outcome.records.map((r) => ({ table: 'metadata' in r ? r.metadata.otfMetadata.destinationTableName : r.result, row: JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')) as { agent_id: string } }));

  it('takes the option from the stage only when on: every other stage configuration is unchanged', () => {
    expect(hashed.hashAgentIds).toBe(true);
    expect('hashAgentIds' in configFor(dev)).toBe(false);
    expect('hashAgentIds' in gateConfigFromStage({ ...dev, lake: { ...dev.lake, hashAgentIds: false } }, readRewardPolicy('v1'), tables)).toBe(false);
  });

  it('writes the agent pseudonym in traces and gate_audit rows when on, and no raw agent id in any row', async () => {
    const outcome = await processBatch(records(batch().map((t) => Buffer.from(JSON.stringify(t)))), { config: hashed, detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now });
    const rows = rowsOf(outcome);
    expect(rows.map((r) => [r.table, r.row.agent_id])).toEqual([
      ['traces', agentPseudonym(testPseudonymiser, 'rag-qa-agent')],
      ['traces', agentPseudonym(testPseudonymiser, 'acme-unlisted-hr-bot')],
      ['gate_audit', agentPseudonym(testPseudonymiser, 'rag-qa-agent')],
      ['gate_audit', agentPseudonym(testPseudonymiser, 'acme-unlisted-hr-bot')],
    ]);
    const text = rows.map((r) => JSON.stringify(r.row)).join('\n');
    expect(text).not.toContain('rag-qa-agent');
    expect(text).not.toContain('acme-unlisted-hr-bot');
    // Metrics count by the id itself: the declared agent keeps its series, the unlisted one is folded later.
    expect([...outcome.report.byAgent.keys()].sort()).toEqual(['acme-unlisted-hr-bot', 'rag-qa-agent']);
  });

  it('writes the raw agent ids when off', async () => {
    const outcome = await processBatch(records(batch().map((t) => Buffer.from(JSON.stringify(t)))), { config: configFor(dev), detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now });
    expect(rowsOf(outcome).map((r) => r.row.agent_id)).toEqual(['rag-qa-agent', 'acme-unlisted-hr-bot', 'rag-qa-agent', 'acme-unlisted-hr-bot']);
  });
});
