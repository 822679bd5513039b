/**
 * BENCHMARK BASELINE ONLY (see dataset-queries.ts in this folder).
 *
 * The dataset's files, built from the completion rows: GRPO prompt groups and DPO pairs as JSONL, the
 * trace-id list (erasure lineage) and the content hash. Pure and deterministic: the order of rows the
 * engine returned never changes a byte, so the same data always hashes the same.
 *
 * Line formats (the training job reads these, training/sial_training/dataset.py; prompts and completions
 * are chat messages, as TRL expects). A prompt is the whole conversation the production model saw before
 * it answered (system prompt, earlier turns, tool results), and `contexts` its retrieved contexts, which
 * the trainer's reward scores a generated answer against:
 * - GRPO: `{"group_id","agent_id","prompt":[{"role","content"}...],"contexts":[...],"completions":[{"trace_id","reward","completion":[{"role":"assistant","content"}]}...]}`
 * - DPO:  `{"group_id","agent_id","prompt":[...],"contexts":[...],"chosen":[...],"rejected":[...],"chosen_trace_id","rejected_trace_id","chosen_reward","rejected_reward"}`
 */
import { createHash } from 'node:crypto';
import type { CompletionRow } from './dataset-queries';

/** One message of a prompt conversation. */
export interface PromptMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
}

/** One completion in a group. */
export interface Completion {
  readonly traceId: string;
  readonly output: string;
  readonly reward: number;
}

/** Completions of one agent to one prompt (the conversation and its retrieved contexts). */
export interface PromptGroup {
  readonly groupId: string;
  readonly agentId: string;
  readonly prompt: readonly PromptMessage[];
  readonly contexts: readonly string[];
  /** Best first (reward descending, then trace id). */
  readonly completions: readonly Completion[];
}

/** The best completion of a group preferred over its worst. */
export interface PreferencePair {
  readonly groupId: string;
  readonly agentId: string;
  readonly prompt: readonly PromptMessage[];
  readonly contexts: readonly string[];
  readonly chosen: Completion;
  readonly rejected: Completion;
}

/** Plain code-unit order: the same in every locale and runtime. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A stable id for a group: the same agent, conversation and contexts always get the same id, in any dataset. */
export function groupIdOf(agentId: string, prompt: readonly PromptMessage[], contexts: readonly string[]): string {
  const messages = prompt.map((m) => [m.role, m.content]);
  return createHash('sha256').update(JSON.stringify([agentId, messages, contexts])).digest('hex').slice(0, 24);
}

/**
 * Groups the rows into prompt groups and pairs. Checks what the query promised (each group complete,
 * at most one chosen and one rejected, both or neither), because a silent mismatch would train on a
 * wrong pairing.
 * @throws Error when the rows break those promises.
 */
export function assembleDataset(rows: readonly CompletionRow[]): { groups: PromptGroup[]; pairs: PreferencePair[] } {
  const byKey = new Map<string, CompletionRow[]>();
  for (const row of rows) {
    const key = JSON.stringify([row.agentId, row.promptKey]);
    const members = byKey.get(key);
    if (members === undefined) byKey.set(key, [row]);
    else members.push(row);
  }
  const groups: PromptGroup[] = [];
  const pairs: PreferencePair[] = [];
  for (const members of byKey.values()) {
    const first = members[0]!;
    if (members.length !== first.groupSize || members.some((m) => m.groupSize !== first.groupSize)) {
      throw new Error(`group of agent ${first.agentId} has ${members.length} rows but the query counted ${first.groupSize}`);
    }
    const seen = new Set(members.map((m) => m.traceId));
    if (seen.size !== members.length) throw new Error(`group of agent ${first.agentId} lists a trace id twice`);
    const completions = members
      .map((m) => ({ traceId: m.traceId, output: m.output, reward: m.reward }))
      .sort((a, b) => b.reward - a.reward || compare(a.traceId, b.traceId));
    const groupId = groupIdOf(first.agentId, first.prompt, first.contexts);
    groups.push({ groupId, agentId: first.agentId, prompt: first.prompt, contexts: first.contexts, completions });

    const chosen = members.filter((m) => m.dpoRole === 'chosen');
    const rejected = members.filter((m) => m.dpoRole === 'rejected');
    if (chosen.length > 1 || rejected.length > 1 || chosen.length !== rejected.length) {
      throw new Error(`group of agent ${first.agentId} has ${chosen.length} chosen and ${rejected.length} rejected completions; expected one of each or none`);
    }
    const [best] = chosen;
    const [worst] = rejected;
    if (best !== undefined && worst !== undefined) {
      if (best.reward < worst.reward) throw new Error(`group of agent ${first.agentId}: the chosen completion scores below the rejected one`);
      pairs.push({
        groupId,
        agentId: first.agentId,
        prompt: first.prompt,
        contexts: first.contexts,
        chosen: { traceId: best.traceId, output: best.output, reward: best.reward },
        rejected: { traceId: worst.traceId, output: worst.output, reward: worst.reward },
      });
    }
  }
  const order = (a: { agentId: string; groupId: string }, b: { agentId: string; groupId: string }): number =>
    compare(a.agentId, b.agentId) || compare(a.groupId, b.groupId);
  return { groups: groups.sort(order), pairs: pairs.sort(order) };
}

function messages(prompt: readonly PromptMessage[]): PromptMessage[] {
  return prompt.map(({ role, content }) => ({ role, content }));
}

function assistant(content: string): Array<{ role: 'assistant'; content: string }> {
  return [{ role: 'assistant', content }];
}

function jsonl(lines: readonly object[]): string {
  return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
}

/** GRPO JSONL: one line per prompt group. */
export function grpoJsonl(groups: readonly PromptGroup[]): string {
  return jsonl(
    groups.map((g) => ({
      group_id: g.groupId,
      agent_id: g.agentId,
      prompt: messages(g.prompt),
      contexts: [...g.contexts],
      completions: g.completions.map((c) => ({ trace_id: c.traceId, reward: c.reward, completion: assistant(c.output) })),
    })),
  );
}

/** DPO JSONL: one line per preference pair. */
export function dpoJsonl(pairs: readonly PreferencePair[]): string {
  return jsonl(
    pairs.map((p) => ({
      group_id: p.groupId,
      agent_id: p.agentId,
      prompt: messages(p.prompt),
      contexts: [...p.contexts],
      chosen: assistant(p.chosen.output),
      rejected: assistant(p.rejected.output),
      chosen_trace_id: p.chosen.traceId,
      rejected_trace_id: p.rejected.traceId,
      chosen_reward: p.chosen.reward,
      rejected_reward: p.rejected.reward,
    })),
  );
}

/**
 * Every trace whose content is in either file, sorted, one per line. Every DPO trace is also a GRPO
 * completion, so the groups cover both files.
 */
export function traceIdList(groups: readonly PromptGroup[]): string[] {
  return [...new Set(groups.flatMap((g) => g.completions.map((c) => c.traceId)))].sort(compare);
}

/** The trace-id file's text. */
export function traceIdsText(traceIds: readonly string[]): string {
  return traceIds.map((id) => `${id}\n`).join('');
}

/** The manifest's contentSha256: sha256 over the GRPO JSONL, then the DPO JSONL, then the trace-id list, hex. */
export function contentSha256(grpo: string, dpo: string, traceIds: string): string {
  return createHash('sha256').update(grpo, 'utf8').update(dpo, 'utf8').update(traceIds, 'utf8').digest('hex');
}
