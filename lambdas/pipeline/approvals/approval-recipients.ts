/**
 * Who is asked for an approval, and who may decide it on the page, by approval kind. Both come from
 * the stage configuration (`approvals.approvers.<kind>.emails`, else the topic's addresses
 * `approverEmails` / `finopsEmails`) and reach the Lambdas as JSON in environment variables, so the
 * request and page functions need no configuration files. Plain type guards: bundled into Lambdas.
 */
import { APPROVAL_KINDS, type ApprovalKind } from '../contracts';
import type { ApproverLists } from './approver-duties';
import { linkAddress } from './signer';

/** Addresses by approval kind. */
export type AddressesByKind = Readonly<Record<ApprovalKind, readonly string[]>>;

/** The slice of a stage's `approvals` configuration this module reads. */
export interface ApprovalAddressConfig {
  readonly approverEmails: readonly string[];
  readonly finopsEmails: readonly string[];
  readonly approvers?: ApproverLists;
}

function unique(addresses: readonly string[]): string[] {
  return [...new Set(addresses.map(linkAddress))];
}

/** The e-mail lists the page enforces per kind (empty where the stage names none). */
export function approverEmailLists(config: ApprovalAddressConfig): AddressesByKind {
  const lists = {} as Record<ApprovalKind, readonly string[]>;
  for (const kind of APPROVAL_KINDS) lists[kind] = unique(config.approvers?.[kind]?.emails ?? []);
  return lists;
}

/**
 * Who receives a personal link per kind: the kind's approver list where the stage names one (only
 * they may decide), otherwise everyone subscribed to the kind's topic (FinOps: finopsEmails; training
 * and deployment: approverEmails).
 */
export function approvalRecipients(config: ApprovalAddressConfig): AddressesByKind {
  const lists = approverEmailLists(config);
  const recipients = {} as Record<ApprovalKind, readonly string[]>;
  for (const kind of APPROVAL_KINDS) {
    const topicAddresses = kind === 'finops' ? config.finopsEmails : config.approverEmails;
    recipients[kind] = lists[kind].length > 0 ? lists[kind] : unique(topicAddresses);
  }
  return recipients;
}

/** Parses an {@link AddressesByKind} from its environment variable; a malformed value fails the cold start. */
export function parseAddressesByKind(json: string, variable: string): AddressesByKind {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error(`${variable} is not JSON`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${variable} must be a JSON object of approval kinds`);
  const byKind = raw as Record<string, unknown>;
  const result = {} as Record<ApprovalKind, readonly string[]>;
  for (const kind of APPROVAL_KINDS) {
    const value = byKind[kind] ?? [];
    if (!Array.isArray(value) || !value.every((a): a is string => typeof a === 'string')) throw new Error(`${variable}.${kind} must be an array of e-mail addresses`);
    result[kind] = unique(value);
  }
  return result;
}

/** The page's {@link ApproverLists} (e-mail lists only: the page's identity is the link's address). */
export function pageApproverLists(emails: AddressesByKind): ApproverLists {
  const lists: Partial<Record<ApprovalKind, { emails: readonly string[] }>> = {};
  for (const kind of APPROVAL_KINDS) if (emails[kind].length > 0) lists[kind] = { emails: emails[kind] };
  return lists;
}
