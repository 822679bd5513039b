/**
 * `sial approvals list | approve ID | reject ID`: the approval page's decision from a terminal, with
 * IAM as the authentication (the caller's AWS credentials; the approver recorded is the caller's
 * principal ARN) or, with `--local DIR`, against local mode's store.
 */
import { dutyRefusalText, type ApproverLists } from '../../lambdas/pipeline/approvals/approver-duties';
import { loadStageConfig, STAGES } from '../../config';
import { approvalStatus, kindLabel, type ApprovalRecord } from '../../lambdas/pipeline/approvals/approval-record';
import { decideApproval, DecisionNotDelivered, type DecideOutcome } from '../../lambdas/pipeline/approvals/decide';
import { utc } from '../../lambdas/pipeline/approvals/summary-text';
import { awsBackend as defaultAwsBackend, localBackend, type ApprovalBackend, type AwsBackendOptions } from './approvals-backend';
import { EXIT, parseCommandLine, UsageError, type CliCommand, type CliContext, type ParsedCommandLine } from './command';
import { formatTable } from './table';

/** The environment variable that names the approvals table when `--table` is not given. */
export const APPROVALS_TABLE_ENV = 'SIAL_APPROVALS_TABLE';

const USAGE = `usage:
  sial approvals list [--stage S] [--json]
  sial approvals approve ID [--comment C]
  sial approvals reject ID [--comment C]

where:
  --local DIR    the lake directory of a local run (sial local run --lake-dir; default .local-lake there)
                 instead of AWS
  --table NAME   the stage's approvals table: stack output ApprovalsTableName of sial-<stage>-data
                 (default: $${APPROVALS_TABLE_ENV})
  --region R     its region (default: the stage's region with --stage, else the AWS SDK's default)
  --stage S      list only stage S's approvals (and take its region from config/stages)

In AWS the caller's credentials decide: the approver recorded is your IAM principal's ARN.`;

const OPTIONS = {
  local: { type: 'string' },
  stage: { type: 'string' },
  comment: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ParsedCommandLine<typeof OPTIONS>['values'];

function remaining(expiresAt: string, now: Date): string {
  const minutes = Math.max(0, Math.floor((Date.parse(expiresAt) - now.getTime()) / 60_000));
  return minutes >= 60 ? `in ${Math.floor(minutes / 60)} h ${minutes % 60} min` : `in ${minutes} min`;
}

function decidedBy(record: ApprovalRecord): string {
  return `${record.status} by ${record.approver ?? 'unknown'}${record.decidedAt !== undefined ? ` at ${utc(record.decidedAt)}` : ''}`;
}

/** One message per outcome, and whether the caller got what they asked for. */
function report(outcome: DecideOutcome, approvalId: string, context: CliContext): number {
  const { io } = context;
  switch (outcome.kind) {
    case 'decided': {
      const r = outcome.record;
      io.out(`${outcome.decision.decision === 'approved' ? 'Approved' : 'Rejected'} ${approvalId}: ${kindLabel(r.kind)} for ${r.targetModelId} (run ${r.runId}, stage ${r.stage}), as ${outcome.decision.approver}.`);
      io.out(outcome.decision.decision === 'approved' ? 'The pipeline has been told and proceeds.' : 'The pipeline has been told and stops.');
      return EXIT.ok;
    }
    case 'too-late':
      io.err(`Recorded ${outcome.decision.decision} for ${approvalId}, but the pipeline was no longer waiting (${outcome.refusal}); nothing proceeds from it. Start a new run if it is still wanted.`);
      return EXIT.failed;
    case 'redelivered':
      io.err(`${approvalId} was already ${decidedBy(outcome.record)}; that decision had not reached the pipeline and has been delivered now. Your decision was not used.`);
      return EXIT.failed;
    case 'already-decided':
      io.err(`${approvalId} was already ${decidedBy(outcome.record)}. A decision is final.`);
      return EXIT.failed;
    case 'expired':
      io.err(`${approvalId} expired at ${utc(outcome.record.expiresAt)} without a decision; the pipeline stopped waiting.`);
      return EXIT.failed;
    case 'not-requested':
      io.err(`${approvalId} is not waiting for a decision yet (the pipeline has not attached its task); try again in a minute.`);
      return EXIT.failed;
    case 'not-found':
      io.err(`There is no approval ${approvalId}. List the waiting ones with: sial approvals list`);
      return EXIT.failed;
    case 'refused':
      io.err(`Refused, nothing recorded for ${approvalId}: ${dutyRefusalText(outcome.refusal, outcome.record.kind)} (run requested by ${outcome.record.requestedBy})`);
      return EXIT.failed;
  }
}

async function list(backend: ApprovalBackend, values: Values, context: CliContext): Promise<number> {
  const now = context.clock();
  const records = await backend.store.listPending({ now, ...(values.stage !== undefined ? { stage: values.stage } : {}) });
  if (values.json === true) {
    // Everything a script needs to decide what to approve; never the task token.
    const view = records.map(({ taskToken: _token, ...r }) => ({ ...r, status: approvalStatus(r, now) }));
    context.io.out(JSON.stringify(view, null, 2));
    return EXIT.ok;
  }
  if (records.length === 0) {
    context.io.out(`No approvals are waiting (${backend.where}).`);
    return EXIT.ok;
  }
  const rows = records.map((r) => [r.approvalId, r.kind, r.stage, r.targetModelId, r.runId, r.requestedBy, `${utc(r.expiresAt)} (${remaining(r.expiresAt, now)})`]);
  formatTable(['ID', 'KIND', 'STAGE', 'MODEL', 'RUN', 'REQUESTED BY', 'EXPIRES'], rows).forEach((l) => context.io.out(l));
  return EXIT.ok;
}

/** The approver lists of an approval's stage, from this repository's stage configuration. */
function stageApprovers(stage: string): ApproverLists | undefined {
  return Object.prototype.hasOwnProperty.call(STAGES, stage) ? loadStageConfig(stage).approvals.approvers : undefined;
}

async function decide(backend: ApprovalBackend, decision: 'approved' | 'rejected', approvalId: string, values: Values, context: CliContext): Promise<number> {
  // The verified caller (STS, or the local user): who decides, checked against the run's requester and the lists.
  const approver = await backend.approver();
  try {
    const outcome = await decideApproval(
      { approvalId, decision, approver, identity: { kind: 'principal', arn: approver }, ...(values.comment !== undefined ? { comment: values.comment } : {}), via: 'cli' },
      { store: backend.store, callbacks: backend.callbacks, clock: context.clock, approversOf: stageApprovers },
    );
    return report(outcome, approvalId, context);
  } catch (error) {
    if (!(error instanceof DecisionNotDelivered)) throw error;
    context.io.err(`Recorded ${error.decision.decision} for ${approvalId}, but the pipeline could not be told yet (${String((error.cause as Error | undefined)?.message ?? error.cause)}).`);
    context.io.err('The decision is final; run the same command again to retry the delivery.');
    return EXIT.failed;
  }
}

/** Picks the backend: `--local DIR`, or AWS with the table from `--table` / $SIAL_APPROVALS_TABLE. */
function backendFor(values: Values, context: CliContext, aws: (options: AwsBackendOptions) => ApprovalBackend): ApprovalBackend {
  if (values.local !== undefined) {
    if (values.table !== undefined || values.region !== undefined) throw new UsageError('--local cannot be combined with --table or --region');
    return localBackend(values.local, context.clock);
  }
  const tableName = values.table ?? context.env[APPROVALS_TABLE_ENV];
  if (tableName === undefined || tableName === '') {
    throw new UsageError(`name the stage's approvals table with --table NAME or $${APPROVALS_TABLE_ENV} (stack output ApprovalsTableName of sial-<stage>-data), or use --local DIR`);
  }
  const region = values.region ?? (values.stage !== undefined ? loadStageConfig(values.stage).region : undefined);
  return aws({ tableName, ...(region !== undefined ? { region } : {}) });
}

/** Builds the command; tests pass an AWS backend with mocked clients. */
export function createApprovalsCommand(aws: (options: AwsBackendOptions) => ApprovalBackend = defaultAwsBackend): CliCommand {
  return {
    name: 'approvals',
    summary: 'list pending approvals, approve or reject one (AWS with your IAM identity, or --local DIR)',
    usage: USAGE,
    async run(args, context) {
      const parsed = parseCommandLine(args, OPTIONS, USAGE, context);
      if (parsed === undefined) return EXIT.ok;
      const { values, positionals } = parsed;
      const [action, id, ...extra] = positionals;
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
      if (action === 'list') {
        if (id !== undefined) throw new UsageError('list takes no ID');
        if (values.comment !== undefined) throw new UsageError('--comment is for approve and reject');
        return list(backendFor(values, context, aws), values, context);
      }
      if (action === 'approve' || action === 'reject') {
        if (id === undefined) throw new UsageError(`${action} needs the approval ID (see: sial approvals list)`);
        if (values.json === true) throw new UsageError('--json is for list');
        return decide(backendFor(values, context, aws), action === 'approve' ? 'approved' : 'rejected', id, values, context);
      }
      throw new UsageError(action === undefined ? 'say what to do: list, approve ID or reject ID' : `unknown action "${action}"`);
    },
  };
}

/** `sial approvals`. */
export const approvalsCommand: CliCommand = createApprovalsCommand();
