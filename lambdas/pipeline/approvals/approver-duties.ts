/**
 * Separation of duties for approvals: the run's requester never decides its own run, and where the
 * stage names approvers for a kind (train, deploy-stage, finops), only they decide it. The CLI's
 * identity is the caller's IAM principal (from STS); the page's is the e-mail address its signed link
 * names. Plain data and type guards: this module is bundled into the approval Lambdas.
 */
import type { ApprovalKind } from '../contracts';

/** Who may decide one kind of approval (config/schema.ts approverListSchema). */
export interface ApproverList {
  readonly principals?: readonly string[];
  readonly emails?: readonly string[];
}

/**
 * The stage's approver lists by approval kind; a kind without a list is open to anyone but the requester,
 * a kind with one is decided only by its named principals (CLI) and addresses (page).
 */
export type ApproverLists = Partial<Readonly<Record<ApprovalKind, ApproverList>>>;

/** Who is deciding, as verified by the channel: the CLI's STS caller ARN, or the page link's e-mail. */
export type ApproverIdentity = { readonly kind: 'principal'; readonly arn: string } | { readonly kind: 'email'; readonly email: string };

/** Why a decider may not decide. */
export type DutyRefusal =
  /** The decider requested the run this approval belongs to. */
  | 'own-run'
  /** The stage names approvers for this kind and the decider is not one of them. */
  | 'not-an-approver';

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;
const ROLE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;

/**
 * The principal an ARN stands for: an assumed-role session (what STS returns for a role's caller) is
 * its role (`partition:account:role/name`), so every session of an approver role matches the role.
 */
function principalKey(arn: string): string {
  const session = ASSUMED_ROLE.exec(arn);
  if (session !== null) return `${session[1]}:${session[2]}:role/${session[3]}`;
  const role = ROLE.exec(arn);
  if (role !== null) return `${role[1]}:${role[2]}:role/${role[3]}`;
  return arn;
}

function sameIdentity(identity: ApproverIdentity, other: string): boolean {
  if (identity.kind === 'email') return identity.email.trim().toLowerCase() === other.trim().toLowerCase();
  return principalKey(identity.arn) === principalKey(other.trim());
}

/** The identity as the decision records it (who decided). */
export function identityLabel(identity: ApproverIdentity): string {
  return identity.kind === 'email' ? identity.email.trim().toLowerCase() : identity.arn;
}

/**
 * Why `identity` may not decide an approval of `kind` for a run requested by `requestedBy`, or
 * undefined when it may. A run started by a schedule (`scheduler:...`) has no person to exclude.
 */
export function dutyRefusal(approval: { readonly kind: ApprovalKind; readonly requestedBy: string }, identity: ApproverIdentity, lists: ApproverLists | undefined): DutyRefusal | undefined {
  if (sameIdentity(identity, approval.requestedBy)) return 'own-run';
  const list = lists?.[approval.kind];
  // A kind the stage names approvers for is closed on every channel: a list of principals only keeps
  // the page (e-mail identities) out too, rather than leaving it open to anyone the link reaches.
  if ((list?.principals?.length ?? 0) + (list?.emails?.length ?? 0) === 0) return undefined;
  const named = identity.kind === 'email' ? (list?.emails ?? []) : (list?.principals ?? []);
  return named.some((entry) => sameIdentity(identity, entry)) ? undefined : 'not-an-approver';
}

/** A sentence for the page and the CLI. */
export function dutyRefusalText(refusal: DutyRefusal, kind: ApprovalKind): string {
  if (refusal === 'own-run') return 'You requested this run, so you cannot decide its approvals: ask another approver.';
  return kind === 'finops' ? 'Only a FinOps approver named in the stage configuration can decide a FinOps approval.' : `You are not among the ${kind} approvers named in the stage configuration.`;
}
