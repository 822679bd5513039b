/**
 * Governance fields stated at several levels (a Langfuse trace and its observations; an OTLP resource,
 * instrumentation scope, span and span event) never resolve to the permissive value:
 *   consent          any false anywhere -> false (the consent gate discards the trace, content-free);
 *   confidentiality  the most restrictive level anywhere wins;
 *   data_region      every value must agree, otherwise conflicting_field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dev } from '../../config/stages/dev';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import { normalizeRecord, type NormalizeResult } from '../../lambdas/gate-score/normalize';
import { processBatch } from '../../lambdas/gate-score/process-batch';
import type { Trace } from '../../lambdas/gate-score/trace';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import { testPseudonymiser } from '../helpers/pseudonymiser';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach deep into fixtures to change one field at a time
type FixtureJson = Record<string, any>;

const fixture = (format: string, name: string): FixtureJson =>
  JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', format, name), 'utf8')) as FixtureJson;

function trace(result: NormalizeResult): Trace {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}`);
  return result.trace;
}

function failure(result: NormalizeResult, code: string): string {
  if (result.ok) throw new Error(`expected ${code}, got a trace`);
  expect(result.reason.startsWith(`${code}: `)).toBe(true);
  return result.reason;
}

/** A Langfuse export whose trace-level metadata consents, in the US region, labelled internal. */
function langfuse(): FixtureJson {
  const record = fixture('langfuse', 'rag-answer.json');
  record.metadata.data_region = 'us-east-1';
  return record;
}

/** The generation observation of the Langfuse fixture. */
const generation = (record: FixtureJson): FixtureJson => (record.observations as FixtureJson[]).find((o) => o.type === 'GENERATION') as FixtureJson;

describe('Langfuse: trace and observation levels', () => {
  it('reads the fixture as consented, internal, in one region', () => {
    expect(trace(normalizeRecord(langfuse()))).toMatchObject({ consent: true, confidentiality: 'internal', data_region: 'us-east-1' });
  });

  it.each([
    ['metadata.consent false', { consent: false }],
    ['metadata.consent "false" (stringified)', { consent: 'false' }],
    ['metadata.userConsent false (camelCase)', { userConsent: false }],
    ['metadata.user_consent false', { user_consent: false }],
  ])('reads consent as withheld when an observation says %s under a consenting trace', (_label, metadata) => {
    const record = langfuse();
    generation(record).metadata = metadata;
    expect(trace(normalizeRecord(record)).consent).toBe(false);
  });

  it('reads observation metadata sent as a JSON string', () => {
    const record = langfuse();
    generation(record).metadata = '{"consent": false}';
    expect(trace(normalizeRecord(record)).consent).toBe(false);
  });

  it('keeps consent when every level that states it says true', () => {
    const record = langfuse();
    generation(record).metadata = { consent: true, data_region: 'us-east-1' };
    expect(trace(normalizeRecord(record)).consent).toBe(true);
  });

  it('reads consent from an observation when the trace states none, and withholds it when one of two observations says false', () => {
    const record = langfuse();
    delete record.metadata.consent;
    generation(record).metadata = { consent: true };
    expect(trace(normalizeRecord(record)).consent).toBe(true);
    (record.observations as FixtureJson[])[0]!.metadata = { consent: false };
    expect(trace(normalizeRecord(record)).consent).toBe(false);
  });

  it('still refuses a consent value that is not a boolean, at any level', () => {
    const record = langfuse();
    generation(record).metadata = { consent: 'yes' };
    expect(failure(normalizeRecord(record), 'invalid_field')).toMatch(/^invalid_field: observations\[\d\]\.metadata\.consent: expected true or false$/);
  });

  it('refuses a data region that differs between the trace and an observation', () => {
    const record = langfuse();
    generation(record).metadata = { dataRegion: 'eu-central-1' };
    expect(failure(normalizeRecord(record), 'conflicting_field')).toMatch(/^conflicting_field: data_region: metadata\.data_region and observations\[\d\]\.metadata\.dataRegion disagree/);
  });

  it('takes the most restrictive confidentiality of all levels, never a lower one', () => {
    const raised = langfuse();
    generation(raised).metadata = { confidentiality: 'RESTRICTED' };
    expect(trace(normalizeRecord(raised)).confidentiality).toBe('restricted');
    const lowered = langfuse();
    generation(lowered).metadata = { confidentiality: 'public' };
    expect(trace(normalizeRecord(lowered)).confidentiality).toBe('internal');
  });

  it('ignores observation metadata that is not an object: it states no governance field', () => {
    for (const metadata of [['consent', false], 42, 'plain text', null]) {
      const record = langfuse();
      generation(record).metadata = metadata;
      expect(trace(normalizeRecord(record)).consent).toBe(true);
    }
  });
});

/** A one-span OTLP export with the given resource, scope, span and event attributes. */
function otlp(levels: { resource?: unknown[]; scope?: unknown[]; span?: unknown[]; event?: unknown[] }): FixtureJson {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'sial.data_region', value: { stringValue: 'us-east-1' } }, ...(levels.resource ?? [])] },
        scopeSpans: [
          {
            scope: { name: 'agent', attributes: levels.scope ?? [] },
            spans: [
              {
                traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
                spanId: '00f067aa0ba902b7',
                name: 'chat qwen3-4b',
                startTimeUnixNano: '1795166102125000000',
                endTimeUnixNano: '1795166102967000000',
                attributes: [
                  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                  { key: 'gen_ai.request.model', value: { stringValue: 'qwen3-4b' } },
                  { key: 'sial.agent.id', value: { stringValue: 'rag-qa-agent' } },
                  { key: 'sial.model.version', value: { stringValue: '1' } },
                  { key: 'sial.model.variant', value: { stringValue: 'current' } },
                  { key: 'gen_ai.output.messages', value: { stringValue: '[{"role":"assistant","parts":[{"type":"text","content":"ok"}]}]' } },
                  ...(levels.span ?? []),
                ],
                events: levels.event === undefined ? [] : [{ name: 'checkpoint', timeUnixNano: '1795166102200000000', attributes: levels.event }],
              },
            ],
          },
        ],
      },
    ],
  };
}

const consent = (value: boolean | string) => ({ key: 'sial.consent', value: typeof value === 'boolean' ? { boolValue: value } : { stringValue: value } });
const confidentiality = (level: string) => ({ key: 'sial.confidentiality', value: { stringValue: level } });
const region = (code: string) => ({ key: 'sial.data_region', value: { stringValue: code } });

describe('OTLP: resource, scope, span and span event levels', () => {
  it.each([
    ['the span says false, the resource true', { resource: [consent(true)], span: [consent(false)] }],
    ['the resource says false, the span true', { resource: [consent('false')], span: [consent(true)] }],
    ['the scope says false', { resource: [consent(true)], scope: [consent(false)], span: [consent(true)] }],
    ['a span event says false', { span: [consent(true)], event: [consent(false)] }],
  ])('reads consent as withheld when %s', (_label, levels) => {
    expect(trace(normalizeRecord(otlp(levels))).consent).toBe(false);
  });

  it('keeps consent when every level says true', () => {
    expect(trace(normalizeRecord(otlp({ resource: [consent(true)], scope: [consent('true')], span: [consent(true)] }))).consent).toBe(true);
  });

  it('refuses a data region that differs at any level, and names both places', () => {
    expect(failure(normalizeRecord(otlp({ scope: [region('eu-central-1')] })), 'conflicting_field')).toBe(
      'conflicting_field: data_region: resourceSpans[0].resource.attributes[sial.data_region] and resourceSpans[0].scopeSpans[0].scope.attributes[sial.data_region] disagree; send one value',
    );
    expect(failure(normalizeRecord(otlp({ event: [region('eu-central-1')] })), 'conflicting_field')).toContain('events[0].attributes[sial.data_region]');
  });

  it('takes the most restrictive confidentiality of all levels', () => {
    expect(trace(normalizeRecord(otlp({ resource: [confidentiality('internal')], span: [confidentiality('restricted')] }))).confidentiality).toBe('restricted');
    expect(trace(normalizeRecord(otlp({ resource: [confidentiality('internal-only')], scope: [confidentiality('public')] }))).confidentiality).toBe('internal-only');
    expect(trace(normalizeRecord(otlp({ span: [confidentiality('public')], event: [confidentiality('customer_confidential')] }))).confidentiality).toBe('customer-confidential');
  });

  it('refuses an invalid governance value at any level', () => {
    expect(failure(normalizeRecord(otlp({ scope: [consent('yes')] })), 'invalid_field')).toContain('scope.attributes[sial.consent]: expected true or false');
    expect(failure(normalizeRecord(otlp({ event: [confidentiality('top-secret')] })), 'invalid_field')).toContain('events[0].attributes[sial.confidentiality]: expected one of');
  });

  it('refuses a scope that is not an object', () => {
    const record = otlp({});
    record.resourceSpans[0].scopeSpans[0].scope = 'agent';
    expect(failure(normalizeRecord(record), 'invalid_field')).toContain('scopeSpans[0].scope: expected an object');
  });

  it('keeps the real SDK fixtures as they were: consented, one region, their own level', () => {
    expect(trace(normalizeRecord(fixture('otlp', 'rag-answer.json')))).toMatchObject({ consent: true, data_region: 'eu-central-1', confidentiality: 'internal' });
    expect(trace(normalizeRecord(fixture('otlp', 'feedback-ko-span-events.json')))).toMatchObject({ consent: true, confidentiality: 'internal-only' });
  });
});

describe('a withheld consent at one level, end to end', () => {
  it('is discarded by the consent gate as a content-free audit row, in both formats', async () => {
    const record = langfuse();
    generation(record).metadata = { consent: false };
    const span = otlp({ resource: [consent(true)], span: [consent(false)] });
    const config = gateConfigFromStage(dev, readRewardPolicy('v1'), { databaseName: 'db', tracesTable: 'traces', auditTable: 'gate_audit' });
    const outcome = await processBatch(
      [record, span].map((r, i) => ({ recordId: `r${i}`, data: Buffer.from(JSON.stringify(r)).toString('base64') })),
      { config, detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now: () => new Date('2026-11-21T12:00:00.000Z') },
    );
    for (const output of outcome.records) {
      expect(output.result).toBe('Ok');
      if (output.result === 'Ok') expect(output.metadata.otfMetadata.destinationTableName).toBe('gate_audit');
    }
    expect(outcome.report.discardsByGateReason.get('consent/consent_withheld')?.count).toBe(2);
  });
});
