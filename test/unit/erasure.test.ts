/**
 * The erasure workflow's pure parts: the request (ids pseudonymised at once, bad ids refused without
 * quoting them), the row predicates each table is deleted by, the lineage report and the deadline.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { erasureTarget, ErasureRequestError, reachedQuery, reachedRows, rowPredicate, sqlLiteral, targetKey } from '../../lambdas/erasure/erasure-request';
import { erasureDeadline, erasureId, overdueErasures, type ErasureLedgerEntry } from '../../lambdas/erasure/ledger';
import { erasureLineage, lineageLines, MODELS_NOT_DELETED } from '../../lambdas/erasure/lineage';
import type { RegisteredModelPackage } from '../../lambdas/pipeline/register-model/model-registry';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, JUDGMENTS_TABLE, TRACES_TABLE } from '../../lambdas/shared/lake-tables';
import { testPseudonymiser } from '../helpers/pseudonymiser';

describe('erasure requests', () => {
  it('pseudonymises a subject or session id at once, with the gate\'s own kinds', () => {
    const subject = erasureTarget({ kind: 'subject', userId: 'alice@example.com' }, testPseudonymiser);
    expect(subject).toEqual({ kind: 'subject', subjectKey: testPseudonymiser.pseudonymise('subject', 'alice@example.com') });
    const session = erasureTarget({ kind: 'session', sessionId: 'whatsapp:+14155550123' }, testPseudonymiser);
    expect(session).toEqual({ kind: 'session', sessionKey: testPseudonymiser.pseudonymise('session', 'whatsapp:+14155550123') });
    expect(targetKey(subject)).not.toContain('alice');
    expect(targetKey(erasureTarget({ kind: 'trace-ids', traceIds: ['b', 'a', 'a'] }, testPseudonymiser))).toBe(targetKey(erasureTarget({ kind: 'trace-ids', traceIds: ['a', 'b'] }, testPseudonymiser)));
  });

  it('refuses empty, oversized or malformed ids without quoting them', () => {
    const refused = (f: () => unknown): string => {
      try {
        f();
      } catch (error) {
        expect(error).toBeInstanceOf(ErasureRequestError);
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refused(() => erasureTarget({ kind: 'subject', userId: '' }, testPseudonymiser))).toContain('--subject');
    expect(refused(() => erasureTarget({ kind: 'subject', userId: 'x'.repeat(257) }, testPseudonymiser))).toContain('1 to 256');
    expect(refused(() => erasureTarget({ kind: 'trace-ids', traceIds: [] }, testPseudonymiser))).toContain('at least one');
    expect(refused(() => erasureTarget({ kind: 'trace-ids', traceIds: ["tr-1' OR '1'='1"] }, testPseudonymiser))).not.toContain("'1'='1");
    expect(refused(() => sqlLiteral("a'b"))).toContain('refusing');
  });

  it('deletes by subject key or trace id, feedback also by the agent\'s request id, and never rows with a NULL key by accident', async () => {
    const target = erasureTarget({ kind: 'subject', userId: 'alice' }, testPseudonymiser);
    const key = testPseudonymiser.pseudonymise('subject', 'alice');
    const reached = reachedRows([
      { trace_id: 't1', agent_id: 'a', request_id: 'r1' },
      { trace_id: 't2', agent_id: 'a', request_id: null },
    ]);
    expect(rowPredicate(TRACES_TABLE, target, reached)).toBe(`(subject_key = '${key}' OR trace_id IN ('t1', 't2'))`);
    expect(rowPredicate(GATE_AUDIT_TABLE, target, reached, { hasSubjectKey: false })).toBe("trace_id IN ('t1', 't2')");
    expect(rowPredicate(FEEDBACK_TABLE, target, reached)).toBe("(trace_id IN ('t1', 't2') OR (agent_id, request_id) IN (('a', 'r1')))");
    expect(rowPredicate(JUDGMENTS_TABLE, target, { traceIds: [], requests: [] })).toBe('false');

    // Run the predicates on DuckDB: rows of other subjects and rows without a subject stay.
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    await connection.run(`CREATE TABLE traces AS SELECT * FROM (VALUES ('t1', 'a', 'r1', '${key}', NULL), ('t3', 'a', 'r3', NULL, NULL), ('t4', 'b', 'r1', 'hmac-sha256:other', NULL)) AS v(trace_id, agent_id, request_id, subject_key, session_id)`);
    await connection.run(`CREATE TABLE gate_audit AS SELECT * FROM (VALUES ('t2', 'a', '${key}'), ('t5', 'a', NULL)) AS v(trace_id, agent_id, subject_key)`);
    await connection.run("CREATE TABLE feedback AS SELECT * FROM (VALUES ('f1', 'a', 'r1', NULL), ('f2', 'b', 'r1', NULL), ('f3', 'a', 'r3', 't3')) AS v(feedback_id, agent_id, request_id, trace_id)");
    const found = reachedRows((await connection.runAndReadAll(reachedQuery(target, { traces: 'traces', gateAudit: 'gate_audit' }))).getRowObjectsJson() as Record<string, unknown>[]);
    expect(found).toEqual({ traceIds: ['t1', 't2'], requests: [{ agentId: 'a', requestId: 'r1' }] });
    const kept = async (table: string, predicate: string, column: string): Promise<string[]> =>
      ((await connection.runAndReadAll(`SELECT ${column} AS id FROM ${table} WHERE NOT coalesce(${predicate}, false) ORDER BY 1`)).getRowObjectsJson() as Array<{ id: string }>).map((r) => r.id);
    expect(await kept('traces', rowPredicate(TRACES_TABLE, target, found), 'trace_id')).toEqual(['t3', 't4']);
    expect(await kept('gate_audit', rowPredicate(GATE_AUDIT_TABLE, target, found), 'trace_id')).toEqual(['t5']);
    expect(await kept('feedback', rowPredicate(FEEDBACK_TABLE, target, found), 'feedback_id')).toEqual(['f2', 'f3']);
    connection.closeSync();
  });
});

const pkg = (version: number, datasetId: string | undefined, targetModelId: string, approvalStatus: RegisteredModelPackage['approvalStatus'] = 'Approved'): RegisteredModelPackage => ({
  arn: `arn:aws:sagemaker:local:000000000000:model-package/g-${targetModelId}/${version}`,
  groupName: `g-${targetModelId}`,
  version,
  approvalStatus,
  createdAt: new Date('2026-11-01T00:00:00Z'),
  metadata: { targetModelId, ...(datasetId === undefined ? {} : { datasetId }) },
});

describe('the lineage report', () => {
  const datasets = [
    { datasetId: 'ds-1', manifestUri: 's3://b/ds-1/manifest.json', targetModelId: 'qwen3-4b', createdAt: '2026-11-01T00:00:00.000Z', traceIds: new Set(['t1', 't2', 't9']) },
    { datasetId: 'ds-2', manifestUri: 's3://b/ds-2/manifest.json', targetModelId: 'qwen3-4b', createdAt: '2026-11-08T00:00:00.000Z', traceIds: new Set(['t8']) },
    { datasetId: 'ds-r', manifestUri: 's3://b/ds-r/manifest.json', targetModelId: 'router', createdAt: '2026-11-08T00:00:00.000Z', traceIds: new Set(['t2']) },
  ];
  const packages = [pkg(1, undefined, 'qwen3-4b'), pkg(2, 'ds-1', 'qwen3-4b'), pkg(3, 'ds-2', 'qwen3-4b'), pkg(4, 'ds-1', 'qwen3-4b', 'Rejected'), pkg(1, 'ds-r', 'router', 'PendingManualApproval')];

  it('names every dataset that listed an erased trace and every model and router version trained on one', () => {
    const report = erasureLineage({ erasedTraceIds: new Set(['t1', 't2']), datasets, packages, isRouter: (id) => id === 'router', protectedArns: new Set([packages[1]!.arn]) });
    expect(report.datasets.map((d) => [d.datasetId, d.erasedTraces])).toEqual([['ds-1', 2], ['ds-r', 1]]);
    expect(report.models.map((v) => [v.version, v.approvalStatus, v.protectedByRetention])).toEqual([[2, 'Approved', true], [4, 'Rejected', false]]);
    expect(report.routers.map((v) => v.version)).toEqual([1]);
    expect(report.retraining).toEqual([
      expect.stringMatching(/^qwen3-4b: 2 version\(s\) trained on erased data; retrain it .* retire the approved version\(s\) v2 .* v2 is kept deployable by retention\.$/),
      expect.stringMatching(/^router: 1 version\(s\) .* none is approved, so none serves\.$/),
    ]);
    expect(lineageLines(report)).toContain(MODELS_NOT_DELETED);
  });

  it('says no retraining is needed when no dataset listed the traces, and still that models are not deleted', () => {
    const report = erasureLineage({ erasedTraceIds: new Set(['t7']), datasets, packages, isRouter: () => false, protectedArns: new Set() });
    expect([report.datasets, report.models, report.routers, report.retraining]).toEqual([[], [], [], []]);
    expect(lineageLines(report)).toEqual(expect.arrayContaining(['  none required: no version was trained on the erased traces.', MODELS_NOT_DELETED]));
  });
});

describe('the ledger deadline', () => {
  const at = new Date('2026-11-01T10:00:00.000Z');
  const entry = (status: ErasureLedgerEntry['status'], deadlineDays: number): ErasureLedgerEntry => ({
    erasureId: erasureId(at, `subject:${status}`),
    target: `subject:${status}`,
    kind: 'subject',
    requestedAt: at.toISOString(),
    deadline: erasureDeadline(at, deadlineDays).toISOString(),
    status,
    updatedAt: at.toISOString(),
    traceIds: 0,
    rowsDeleted: {},
    snapshotIds: {},
    verification: null,
    lineage: null,
  });

  it('counts only requests past their deadline without a verified deletion', () => {
    expect(erasureDeadline(at, 30).toISOString()).toBe('2026-12-01T10:00:00.000Z');
    const now = new Date('2026-12-02T00:00:00.000Z');
    const entries = [entry('verified', 30), entry('rows-deleted', 30), entry('requested', 45), entry('verification-failed', 30)];
    expect(overdueErasures(entries, now).map((e) => e.status)).toEqual(['rows-deleted', 'verification-failed']);
  });

  it('gives a retried request in the same second the same id, another target another', () => {
    expect(erasureId(at, 'subject:a')).toBe(erasureId(new Date(at.getTime() + 400), 'subject:a'));
    expect(erasureId(at, 'subject:a')).not.toBe(erasureId(at, 'subject:b'));
    expect(erasureId(at, 'subject:a')).toMatch(/^er-20261101T100000Z-[0-9a-f]{8}$/);
  });
});
