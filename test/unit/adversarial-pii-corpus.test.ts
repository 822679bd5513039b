/**
 * The adversarial PII corpus (test/helpers/adversarial-pii-corpus.ts) through the gate, twice: as
 * `processBatch` with the simulated Comprehend, and as the Lambda handler (Comprehend mocked with the
 * same simulation) with everything Powertools writes captured. Each adversarial record sits between
 * two good neighbours of its format.
 *
 * For every record: exactly one result; the expected outcome where the rule is clear; and not one
 * planted value in any column of any written row (nested JSON included), in any log line or metric
 * document, or in processBatch's diagnostics and report. Matching is disguise-proof (see
 * test/helpers/planted-value-matcher.ts); failures name class, format, field, record and where the
 * value was found, never the content.
 */
import type * as ComprehendSdk from '@aws-sdk/client-comprehend';
import type { Context, FirehoseTransformationEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { format as formatLogArgs } from 'node:util';
import { readRewardPolicy } from '../../config/reward-policies/read';
import type { StageConfig } from '../../config/schema';
import { dev } from '../../config/stages/dev';
import { prodKr } from '../../config/stages/prod-kr';
import type { FirehoseOutputRecord } from '../../lambdas/gate-score/firehose-records';
import { gateConfigDigest, gateConfigFromStage } from '../../lambdas/gate-score/gate-config';
import type * as GateHandlerModule from '../../lambdas/gate-score/handler';
import { processBatch } from '../../lambdas/gate-score/process-batch';
import type { DetectorLanguage } from '../../lambdas/shared/ports';
import { SimulatedComprehendDetector } from '../../local/simulated-comprehend';
import {
  CLASSES,
  CORPUS_FORMATS,
  TEXT_FIELDS,
  Values,
  adversarialPiiCorpus,
  canonicalSamples,
  goodNeighbour,
  plainRecord,
  seededRandom,
  type AdversarialRecord,
  type CorpusFormat,
  type CorpusStage,
  type Outcome,
} from '../helpers/adversarial-pii-corpus';
import { lambdaContext } from '../helpers/lambda-context';
import { findLeaks, leafHolds, leavesOf, needleOf, normaliseForMatch, type Leaf, type Needle } from '../helpers/planted-value-matcher';
import { testPseudonymiser } from '../helpers/pseudonymiser';
import { withLanguageDetectors } from '../../lambdas/shared/language-detectors';
import type * as SecretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type * as SageMakerRuntimeSdk from '@aws-sdk/client-sagemaker-runtime';
import { SimulatedKoreanNerDetector, simulatedEntityDetectors } from '../../local/simulated-korean-ner';

process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test';
process.env.POWERTOOLS_SERVICE_NAME = 'gate-score';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
// Dev mode writes through the global console, where the capture below reads it; metrics stay on.
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';

const TABLES = { databaseName: 'sial_test', tracesTable: 'traces', auditTable: 'gate_audit' };
const STAGES: Readonly<Record<CorpusStage, StageConfig>> = { dev, 'prod-kr': prodKr };
const configFor = (stage: CorpusStage) => gateConfigFromStage(STAGES[stage], readRewardPolicy('v1'), TABLES);
const now = () => new Date('2026-11-21T12:00:00.000Z');
/** Most failures listed in one assertion message (the count is always given). */
const MAX_LISTED = 60;
/** Joins normalised leaves: longer than the three non-digits a number match may skip, and no needle holds it. */
const LEAF_SEPARATOR = '\n#####\n';

type Handler = (event: FirehoseTransformationEvent, context: Context) => Promise<unknown>;
type Path = 'processBatch' | 'handler';

/** One position of a batch: a good neighbour or an adversarial record. */
interface Slot {
  readonly record?: AdversarialRecord;
  readonly format: CorpusFormat;
  readonly data: Buffer;
}

/** Batch-level output: leaves and their joined forms (searched once per needle, then attributed). */
interface SideOutput {
  readonly what: string;
  readonly leaves: readonly Leaf[];
  readonly joined: Pick<Leaf, 'text' | 'digits'>;
}

interface Run {
  readonly path: Path;
  readonly stage: CorpusStage;
  readonly slots: readonly Slot[];
  readonly results: readonly FirehoseOutputRecord[];
  readonly side: readonly SideOutput[];
  readonly reportBalanced?: boolean;
}

/** The simulated Comprehend behind the real adapter: what the handler gets from its (mocked) client. */
const simulation = new SimulatedComprehendDetector();
async function simulatedDetectPii(input: ComprehendSdk.DetectPiiEntitiesCommandInput): Promise<ComprehendSdk.DetectPiiEntitiesCommandOutput> {
  const entities = await simulation.detect(input.Text ?? '', (input.LanguageCode ?? 'en') as DetectorLanguage);
  return {
    Entities: entities.map((e) => ({ Type: e.type as ComprehendSdk.PiiEntityType, Score: e.score, BeginOffset: e.beginOffset, EndOffset: e.endOffset })),
    $metadata: {},
  };
}

/** The simulated Korean endpoint behind the real SageMaker adapter: the toolkit's answer, code-point offsets. */
const koreanNer = new SimulatedKoreanNerDetector();
async function simulatedInvokeEndpoint(input: SageMakerRuntimeSdk.InvokeEndpointCommandInput): Promise<SageMakerRuntimeSdk.InvokeEndpointCommandOutput> {
  const { inputs } = JSON.parse(new TextDecoder().decode(input.Body as Uint8Array)) as { inputs: string[] };
  const found = await koreanNer.detectBatch(inputs, 'ko');
  const answer = found.map((entities, k) => {
    const codePoints = Array.from(inputs[k] ?? '');
    return entities.map((e) => ({
      entity_group: e.type === 'NAME' ? 'PS' : 'LC',
      score: e.score,
      word: codePoints.slice(e.beginOffset, e.endOffset).join(''),
      start: e.beginOffset,
      end: e.endOffset,
    }));
  });
  return { $metadata: { httpStatusCode: 200 }, Body: new TextEncoder().encode(JSON.stringify(answer)) as SageMakerRuntimeSdk.InvokeEndpointCommandOutput['Body'] };
}

/**
 * Loads the handler as a cold start with the stage's GATE_CONFIG, its own clients mocked: Comprehend
 * and the Korean endpoint by their simulations, Secrets Manager with a test pseudonymisation key.
 */
function loadHandler(stage: CorpusStage): Handler {
  process.env.GATE_CONFIG = JSON.stringify(configFor(stage));
  process.env.GATE_CONFIG_SHA256 = gateConfigDigest(process.env.GATE_CONFIG);
  process.env.PSEUDONYMISATION_KEY_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pseudonymisation-key';
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    // The isolated registry has its own copy of the SDK: mock that copy, the one the handler uses.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const sdk = require('@aws-sdk/client-comprehend') as typeof ComprehendSdk;
    mockClient(sdk.ComprehendClient).on(sdk.DetectPiiEntitiesCommand).callsFake(simulatedDetectPii);
    const secrets = require('@aws-sdk/client-secrets-manager') as typeof SecretsManagerSdk;
    mockClient(secrets.SecretsManagerClient).on(secrets.GetSecretValueCommand).resolves({ SecretString: 'adversarial-corpus-test-key-0123456789abcdefghijklmnop' });
    const runtime = require('@aws-sdk/client-sagemaker-runtime') as typeof SageMakerRuntimeSdk;
    mockClient(runtime.SageMakerRuntimeClient).on(runtime.InvokeEndpointCommand).callsFake(simulatedInvokeEndpoint);
    /* eslint-enable @typescript-eslint/no-require-imports */
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = (require('../../lambdas/gate-score/handler') as typeof GateHandlerModule).handler as unknown as Handler;
  });
  if (handler === undefined) throw new Error('the handler did not load');
  return handler;
}

/** Runs `task` with console and stdout/stderr captured: every line Powertools (logs and EMF metrics) writes. */
async function captureOutput<T>(task: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const take = (...args: unknown[]): void => {
    lines.push(formatLogArgs(...args));
  };
  const spies = [
    ...(['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((method) => jest.spyOn(console, method).mockImplementation(take)),
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }),
  ];
  try {
    return { result: await task(), lines };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

function joinLeaves(leaves: readonly Leaf[]): Pick<Leaf, 'text' | 'digits'> {
  return { text: leaves.map((l) => l.text).join(LEAF_SEPARATOR), digits: leaves.map((l) => l.digits).join(LEAF_SEPARATOR) };
}

function sideOutput(what: string, leaves: Leaf[]): SideOutput {
  return { what, leaves, joined: joinLeaves(leaves) };
}

function logLeaves(lines: readonly string[]): Leaf[] {
  return lines.flatMap((line, i) => {
    try {
      return leavesOf(JSON.parse(line) as unknown, `log[${i}]`);
    } catch {
      return leavesOf(line, `log[${i}]`);
    }
  });
}

/** Every adversarial record between two good neighbours of its format. */
function batchOf(stage: CorpusStage, records: readonly AdversarialRecord[]): Slot[] {
  const slots: Slot[] = [];
  records.forEach((record, i) => {
    slots.push({ format: record.format, data: goodNeighbour(stage, record.format, i) });
    slots.push({ record, format: record.format, data: record.data });
  });
  const last = records.at(-1)?.format ?? 'native';
  slots.push({ format: last, data: goodNeighbour(stage, last, records.length) });
  return slots;
}

async function runStage(stage: CorpusStage, records: readonly AdversarialRecord[]): Promise<Run[]> {
  const slots = batchOf(stage, records);
  const input = slots.map((slot, i) => ({ recordId: `${stage}-${i}`, data: slot.data.toString('base64') }));

  // The stage's entity detectors (prod-kr's Korean endpoint) ride beside Comprehend, simulated as in local mode.
  const detector = withLanguageDetectors(new SimulatedComprehendDetector(), simulatedEntityDetectors(configFor(stage).pii));
  const outcome = await processBatch(input, { config: configFor(stage), detector, pseudonymiser: testPseudonymiser, now });
  const { report } = outcome;
  const reportJson = JSON.parse(JSON.stringify(report, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v))) as unknown;
  const direct: Run = {
    path: 'processBatch',
    stage,
    slots,
    results: outcome.records,
    side: [sideOutput('diagnostics', leavesOf(outcome.diagnostics, 'diagnostics')), sideOutput('report', leavesOf(reportJson, 'report'))],
    reportBalanced: report.delivered + report.discarded + report.failed + report.duplicates === report.recordsIn && report.recordsIn === slots.length,
  };

  const handler = loadHandler(stage);
  const event: FirehoseTransformationEvent = {
    invocationId: `inv-${stage}`,
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/traces',
    region: 'us-east-1',
    records: input.map((r) => ({ ...r, approximateArrivalTimestamp: 0 })),
  };
  const { result, lines } = await captureOutput(() => handler(event, lambdaContext('gate-score')));
  const viaHandler: Run = {
    path: 'handler',
    stage,
    slots,
    results: (result as { records: FirehoseOutputRecord[] }).records,
    side: [sideOutput('log', logLeaves(lines))],
  };
  return [direct, viaHandler];
}

function rowOf(result: FirehoseOutputRecord): Record<string, unknown> {
  return JSON.parse(Buffer.from(result.data, 'base64').toString('utf8')) as Record<string, unknown>;
}

function outcomeOf(result: FirehoseOutputRecord | undefined): Outcome | 'Dropped' | 'missing' {
  if (result === undefined) return 'missing';
  if (result.result !== 'Ok') return result.result === 'ProcessingFailed' ? 'failed' : 'Dropped';
  const table = result.metadata.otfMetadata.destinationTableName;
  if (table === TABLES.tracesTable) return 'traces';
  return `audit:${String(rowOf(result).gate)}` as Outcome;
}

/** Where the planted values of a record were found in one run: row columns and batch-level output. */
function leaksIn(run: Run, index: number, needles: readonly Needle[]): string[] {
  const found: string[] = [];
  const result = run.results[index];
  if (result?.result === 'Ok') {
    const table = result.metadata.otfMetadata.destinationTableName;
    for (const leak of findLeaks(leavesOf(rowOf(result), `row(${table})`), needles)) found.push(`${leak.label} in ${leak.path}`);
  }
  for (const side of run.side) {
    for (const needle of needles) {
      if (!leafHolds(side.joined, needle)) continue;
      const places = findLeaks(side.leaves, [needle]).map((l) => l.path);
      found.push(`${needle.label} in ${side.what} ${places.slice(0, 3).join(', ') || '(across leaves)'}`);
    }
  }
  return found;
}

function listed(failures: readonly string[]): string[] {
  return failures.length <= MAX_LISTED ? [...failures] : [...failures.slice(0, MAX_LISTED), `... and ${failures.length - MAX_LISTED} more (${failures.length} in all)`];
}

const corpus = adversarialPiiCorpus();
const needlesOf = new Map<AdversarialRecord, Needle[]>(corpus.map((r) => [r, r.planted.map(needleOf)]));
const needles = (record: AdversarialRecord): Needle[] => needlesOf.get(record) ?? [];
let runs: Run[] = [];

beforeAll(async () => {
  const stages: CorpusStage[] = ['dev', 'prod-kr'];
  for (const stage of stages) runs.push(...(await runStage(stage, corpus.filter((r) => r.stage === stage))));
}, 300_000);

afterAll(() => {
  runs = [];
});

/** Each adversarial record of a class and format in every run, with its position. */
function positions(classId: string, format: CorpusFormat): Array<{ run: Run; index: number; record: AdversarialRecord }> {
  return runs.flatMap((run) =>
    run.slots.flatMap((slot, index) => (slot.record !== undefined && slot.record.classId === classId && slot.record.format === format ? [{ run, index, record: slot.record }] : [])),
  );
}

describe('the adversarial corpus', () => {
  it('holds at least 300 records, every class in every format, and every free-text field per class and format', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    const missing: string[] = [];
    for (const cls of CLASSES) {
      for (const format of CORPUS_FORMATS) {
        const records = corpus.filter((r) => r.classId === cls.id && r.format === format);
        if (records.length === 0) missing.push(`${cls.id} ${format}: no record`);
        for (const field of TEXT_FIELDS) {
          if (!records.some((r) => r.field.split(/[+:]/).includes(field))) missing.push(`${cls.id} ${format}: nothing planted in ${field}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(new Set(corpus.map((r) => r.name)).size).toBe(corpus.length);
  });

  it('is deterministic: the same seed gives the same records', () => {
    const again = adversarialPiiCorpus();
    expect(again.map((r) => r.name)).toEqual(corpus.map((r) => r.name));
    expect(again.every((r, i) => r.data.equals(corpus[i]?.data ?? Buffer.alloc(0)))).toBe(true);
  });

  it('plants only values the matcher finds in the record itself (the leak check is never vacuous)', () => {
    const unseen: string[] = [];
    for (const record of corpus) {
      const leaves = leavesOf(JSON.parse(record.data.toString('utf8')) as unknown, 'input');
      const found = new Set(findLeaks(leaves, needles(record)).map((l) => l.label));
      for (const needle of needles(record)) if (!found.has(needle.label)) unseen.push(`${record.name}: ${needle.label} not found in its own input`);
    }
    expect(listed(unseen)).toEqual([]);
  });

  it('keeps the good neighbours free of anything that could match a planted value', () => {
    const joined = joinLeaves(
      (['dev', 'prod-kr'] as const).flatMap((stage) => CORPUS_FORMATS.flatMap((format) => leavesOf(JSON.parse(goodNeighbour(stage, format, 7).toString('utf8')) as unknown))),
    );
    const matched = corpus.flatMap((record) => needles(record).filter((n) => leafHolds(joined, n)).map((n) => `${record.name}: ${n.label}`));
    expect(listed(matched)).toEqual([]);
  });
});

describe('the leak matcher', () => {
  const email = 'evelyn.hartwell@example.com';
  const emailNeedle = needleOf({ label: 'e-mail', text: [email] });
  const cardNeedle = needleOf({ label: 'card', text: [], digits: '4539148803436467' });
  const found = (value: unknown, needle: Needle) => findLeaks(leavesOf(value), [needle]).length > 0;

  it.each([
    ['plain', email],
    ['upper case', email.toUpperCase()],
    ['zero-width space and soft hyphen', 'eve\u200blyn.hart\u00adwell@example.com'],
    ['full-width', 'ｅｖｅｌｙｎ．ｈａｒｔｗｅｌｌ＠ｅｘａｍｐｌｅ．ｃｏｍ'],
    ['Cyrillic look-alike', 'evelyn.hartwell@ex\u0430mple.com'],
    ['percent-encoded', 'evelyn.hartwell%40example.com'],
    ['double percent-encoded', 'evelyn.hartwell%2540example.com'],
    ['HTML entity', 'evelyn.hartwell&#64;example.com'],
    ['named HTML entity', 'evelyn.hartwell&commat;example.com'],
    ['literal \\u0040', 'evelyn.hartwell\\u0040example.com'],
    ['spelled out', 'evelyn dot hartwell at example dot com'],
    ['bracketed', 'evelyn.hartwell[at]example[dot]com'],
    ['newline after @', 'evelyn.hartwell@\nexample.com'],
    ['NUL before @', 'evelyn.hartwell\u0000@example.com'],
    ['lone surrogate before @', 'evelyn.hartwell\ud800@example.com'],
  ])('finds an e-mail written %s, also inside nested JSON', (_name, written) => {
    expect(found({ output: `Write to ${written} today.` }, emailNeedle)).toBe(true);
    expect(found({ tool_calls: [{ arguments: JSON.stringify({ query: `mail ${written}` }) }] }, emailNeedle)).toBe(true);
    expect(found({ input_messages: [{ content: JSON.stringify([{ role: 'user', parts: [{ content: written }] }]) }] }, emailNeedle)).toBe(true);
  });

  it.each([
    ['grouped', '4539 1488 0343 6467'],
    ['dotted', '4539.1488.0343.6467'],
    ['full-width', '４５３９ １４８８ ０３４３ ６４６７'],
    ['with U+00A0 and zero-width space', '4539\u00a01488\u200b0343 6467'],
    ['split over lines', '4539 1488\n0343 6467'],
    ['as a number', 4539148803436467],
  ])('finds a card number written %s', (_name, written) => {
    expect(found({ result: written }, cardNeedle)).toBe(true);
  });

  it('finds nothing in masked text, in other numbers, or in hashes', () => {
    expect(found({ output: 'Write to [EMAIL] today, card [CREDIT_DEBIT_NUMBER].' }, emailNeedle)).toBe(false);
    expect(found({ output: 'Write to [EMAIL] today, card [CREDIT_DEBIT_NUMBER].' }, cardNeedle)).toBe(false);
    expect(found({ session_id: 'hmac-sha256:4539a148b8034c3e6467f0d1c2b3a4e5f60718293a4b5c6d7e8f90a1b2c3d4e5' }, cardNeedle)).toBe(false);
    expect(found({ ts: 1795168800000000, id: 'adv-c3-4539', other: '4539 1488 0343 6468' }, cardNeedle)).toBe(false);
    // Letters are not separators: the same digits spread over a hex id are not the number.
    expect(found({ id: '4539a148b8034c3e6467' }, cardNeedle)).toBe(false);
    expect(found({ note: 'evelyn.hartwell is on leave; see example.com' }, emailNeedle)).toBe(false);
  });

  it('normalises planted values and output the same way', () => {
    expect(normaliseForMatch('Evelyn DOT Hartwell (at) Example (dot) com')).toBe(normaliseForMatch(email));
    expect(normaliseForMatch('０１０-１２３４-５６７８')).toBe('010-1234-5678');
  });

  it('reports no leak in rows where the gate masked canonical values, and finds the same values in the input', async () => {
    const values = new Values(seededRandom(7));
    const inputs: Buffer[] = [];
    const planted: Needle[][] = [];
    CORPUS_FORMATS.forEach((format, i) => {
      const samples = canonicalSamples(values);
      const plants = Object.fromEntries(TEXT_FIELDS.map((field) => [field, samples.map((s) => s.surface).join(' and ')]));
      inputs.push(plainRecord('dev', format, `canonical-${i}`, 9000 + i, plants));
      planted.push(samples.map((s) => needleOf(s.planted)));
    });
    const outcome = await processBatch(
      inputs.map((data, i) => ({ recordId: `c${i}`, data: data.toString('base64') })),
      { config: configFor('dev'), detector: new SimulatedComprehendDetector(), pseudonymiser: testPseudonymiser, now },
    );
    outcome.records.forEach((result, i) => {
      const needlesHere = planted[i] ?? [];
      expect(outcomeOf(result)).toBe('traces');
      expect(findLeaks(leavesOf(rowOf(result)), needlesHere)).toEqual([]);
      const inInput = new Set(findLeaks(leavesOf(JSON.parse(inputs[i]?.toString('utf8') ?? 'null') as unknown), needlesHere).map((l) => l.label));
      expect([...inInput].sort()).toEqual(needlesHere.map((n) => n.label).sort());
    });
  });
});

describe('the batch contract over the corpus', () => {
  it('gives every record exactly one result, in order, on both paths and both stages', () => {
    expect(runs).toHaveLength(4);
    for (const run of runs) {
      expect([run.path, run.stage, run.results.map((r) => r.recordId)]).toEqual([run.path, run.stage, run.slots.map((_, i) => `${run.stage}-${i}`)]);
      if (run.reportBalanced !== undefined) expect([run.path, run.stage, 'report balanced', run.reportBalanced]).toEqual([run.path, run.stage, 'report balanced', true]);
    }
  });

  it('captures what the handler logs: the batch summary, each record not delivered, and the metric documents', () => {
    for (const run of runs.filter((r) => r.path === 'handler')) {
      const texts = new Set(run.side.flatMap((side) => side.leaves.map((l) => l.text)));
      const paths = run.side.flatMap((side) => side.leaves.map((l) => l.path));
      // The dev corpus always has records that are not delivered (C1's duplicate keys, C6's withheld consent).
      const notDelivered = run.stage === 'dev' ? texts.has('recordnotdeliveredtotraces') : 'not required';
      expect([run.stage, texts.has('batchgated'), notDelivered, paths.some((p) => p.endsWith('._aws(key)'))]).toEqual([
        run.stage,
        true,
        run.stage === 'dev' ? true : 'not required',
        true,
      ]);
    }
  });

  it('delivers every good neighbour to traces, and no neighbour row holds a planted value of the records beside it', () => {
    const failures: string[] = [];
    const counts: string[] = [];
    const expectedCounts: string[] = [];
    for (const run of runs) {
      let neighbours = 0;
      let delivered = 0;
      run.slots.forEach((slot, index) => {
        if (slot.record !== undefined) return;
        neighbours += 1;
        const result = run.results[index];
        const outcome = outcomeOf(result);
        const tag = `neighbour ${run.stage}-${index} (${slot.format}, before ${run.slots[index + 1]?.record?.name ?? 'the end'}) [${run.path}]`;
        if (outcome === 'traces') delivered += 1;
        else failures.push(`${tag}: ${outcome}`);
        const beside = [run.slots[index - 1]?.record, run.slots[index + 1]?.record].filter((r): r is AdversarialRecord => r !== undefined);
        if (result?.result === 'Ok') {
          for (const leak of findLeaks(leavesOf(rowOf(result), 'row'), beside.flatMap(needles))) failures.push(`${tag}: ${leak.label} in ${leak.path}`);
        }
      });
      counts.push(`${run.path} ${run.stage}: ${delivered} of ${neighbours} neighbours delivered`);
      expectedCounts.push(`${run.path} ${run.stage}: ${neighbours} of ${neighbours} neighbours delivered`);
    }
    expect(counts).toEqual(expectedCounts);
    expect(listed(failures)).toEqual([]);
  });
});

describe.each(CLASSES.map((c) => [c.id, c.title, c] as const))('class %s: %s', (id, _title, cls) => {
  const formats = CORPUS_FORMATS.filter((format) => corpus.some((r) => r.classId === id && r.format === format));

  it.each(formats)('%s: no planted value in any written row, log line, metric, diagnostic or report', (format) => {
    const failures: string[] = [];
    for (const { run, index, record } of positions(id, format)) {
      for (const where of leaksIn(run, index, needles(record))) failures.push(`${record.name} [${run.path}]: ${where}`);
    }
    expect(positions(id, format).length).toBeGreaterThan(0);
    expect(listed(failures)).toEqual([]);
  });

  it.each(formats)(`%s: exactly one result per record, and the expected one where the rule is clear (${cls.expected.rule})`, (format) => {
    const failures: string[] = [];
    for (const { run, index, record } of positions(id, format)) {
      const result = run.results[index];
      const outcome = outcomeOf(result);
      const tag = `${record.name} [${run.path}]`;
      if (outcome === 'missing' || outcome === 'Dropped') {
        failures.push(`${tag}: ${outcome}, expected exactly one Ok or ProcessingFailed result`);
        continue;
      }
      const { oneOf, rule, row: rules } = record.expected;
      if (oneOf !== undefined && !oneOf.includes(outcome)) failures.push(`${tag}: ${outcome}, expected ${oneOf.join(' or ')} (${rule})`);
      if (outcome === 'traces' && rules !== undefined && result !== undefined) {
        const row = rowOf(result);
        for (const { column, is } of rules) {
          const value = row[column];
          const ok = is === 'null' ? value === null : value === null || (typeof value === 'number' && value >= 0);
          if (!ok) failures.push(`${tag}: column ${column} is ${typeof value === 'number' ? String(value) : typeof value}, expected ${is}`);
        }
      }
    }
    expect(listed(failures)).toEqual([]);
  });
});
