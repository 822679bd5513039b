/**
 * The GRPO group id, specified once here and computed by the dataset SQL (sql/selection.sql, `training`):
 * the first 24 hex digits of the SHA-256 of the agent id, the conversation and the retrieved contexts,
 * spelled out as plain text rather than printed as JSON, because engines print JSON differently (Trino
 * escapes characters outside the Basic Multilingual Plane, DuckDB does not) and one prompt must get one
 * group id in Athena and locally. Tests hold the SQL to this function on both engines' spellings.
 */
import { createHash } from 'node:crypto';

const GROUP_SEPARATOR = '\u001d';
const RECORD_SEPARATOR = '\u001e';
const UNIT_SEPARATOR = '\u001f';

/** Backslash first, then each separator prefixed with one: the escaped pieces can be split back apart. */
function escaped(text: string): string {
  return text
    .replaceAll('\\', '\\\\')
    .replaceAll(GROUP_SEPARATOR, `\\${GROUP_SEPARATOR}`)
    .replaceAll(RECORD_SEPARATOR, `\\${RECORD_SEPARATOR}`)
    .replaceAll(UNIT_SEPARATOR, `\\${UNIT_SEPARATOR}`);
}

/** A list as its length, then its escaped items: `[]` and `['']` spell differently. */
function listText(items: readonly string[]): string {
  return `${items.length}${RECORD_SEPARATOR}${items.join(RECORD_SEPARATOR)}`;
}

/** The text the group id hashes; two different prompts never spell the same text. */
export function groupKeyText(agentId: string, messages: ReadonlyArray<{ readonly role: string; readonly content: string }>, contexts: readonly string[]): string {
  return [agentId, listText(messages.map((m) => `${m.role}${UNIT_SEPARATOR}${escaped(m.content)}`)), listText(contexts.map(escaped))].join(GROUP_SEPARATOR);
}

/** The group id of one agent's prompt: 24 hex digits (96 bits: collisions are not a practical concern). */
export function groupIdOf(agentId: string, messages: ReadonlyArray<{ readonly role: string; readonly content: string }>, contexts: readonly string[]): string {
  return createHash('sha256').update(groupKeyText(agentId, messages, contexts), 'utf8').digest('hex').slice(0, 24);
}
