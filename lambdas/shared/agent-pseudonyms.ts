/**
 * Agent ids as keyed pseudonyms, for a stage with `lake.hashAgentIds` (config/schema.ts). An agent id
 * is an operator's or a producer's name (`support-bot`, `acme-internal-hr-assistant`) and can say more
 * than it should; with the option every lake row's `agent_id` holds HMAC-SHA-256 of it under the stage's
 * pseudonymisation key, kind `agent` (pseudonymisation.ts: `sial-pseudonym:v1\nagent\n<id>`), so it is
 * unrelated to a session or subject pseudonym of the same text. The pseudonym,
 * `hmac-sha256:<64 hex digits>` (76 characters), passes the lake's `agent-id` identifier rule (letters,
 * digits and `. _ : -`, at most 128, no `/`), so the column's class, its partitioning and every join
 * (traces, gate_audit, feedback, judgments by agent and request id) hold unchanged.
 *
 * Readers that match rows to the agents the stage declares (`config.agents`) compute those agents'
 * pseudonyms with the same key at run time; {@link AgentIdentities} does both directions, and says what
 * a report shows: the configured name where a row's pseudonym is a declared agent's, the pseudonym
 * otherwise (the raw id of an undeclared agent is in no row, and no one can recover it).
 *
 * Pure apart from node:crypto (through the Pseudonymiser); the key comes through the
 * PseudonymisationKeyProvider port.
 */
import { isPseudonym, type Pseudonym, type Pseudonymiser } from './pseudonymisation';

/** How a hashed lake's reports show a raw id written before the option (see AgentIdentities.displayName). */
export const UNHASHED_PREFIX = 'unhashed:';

/** The pseudonym an agent id is stored as. */
export function agentPseudonym(pseudonymiser: Pseudonymiser, agentId: string): Pseudonym {
  return pseudonymiser.pseudonymise('agent', agentId);
}

/**
 * How a stage writes and names its agents. `plain`: ids are stored as they come (the default); `hashed`:
 * every stored id is the agent's pseudonym. Either way the agents the stage declares keep their
 * configured names in reports and metric dimensions. (Metric dimensions need nothing more: the gate and
 * the report metrics give declared agents their own id and fold every other agent into `unlisted`, so no
 * producer-chosen id reaches CloudWatch with the option or without it; a reader of hashed rows maps a
 * row to its declared agent with {@link AgentIdentities.declaredAgentOf} before folding.)
 */
export class AgentIdentities {
  private readonly declaredByStored: ReadonlyMap<string, string>;

  private constructor(
    readonly declared: readonly string[],
    private readonly pseudonymiser: Pseudonymiser | undefined,
  ) {
    this.declaredByStored = new Map(declared.map((id) => [this.stored(id), id]));
  }

  /** Agent ids stored as they are (`lake.hashAgentIds` off). */
  static plain(declared: readonly string[]): AgentIdentities {
    return new AgentIdentities(declared, undefined);
  }

  /** Agent ids stored as their pseudonyms under `pseudonymiser`'s key (`lake.hashAgentIds` on). */
  static hashed(declared: readonly string[], pseudonymiser: Pseudonymiser): AgentIdentities {
    return new AgentIdentities(declared, pseudonymiser);
  }

  /** True when stored ids are pseudonyms. */
  get hashed(): boolean {
    return this.pseudonymiser !== undefined;
  }

  /** What a lake row's `agent_id` holds for the agent `agentId` (as the producer or the API path names it). */
  stored(agentId: string): string {
    return this.pseudonymiser === undefined ? agentId : agentPseudonym(this.pseudonymiser, agentId);
  }

  /** The declared agent a stored id stands for; undefined for an agent the stage does not declare. */
  declaredAgentOf(storedId: string): string | undefined {
    return this.declaredByStored.get(storedId);
  }

  /**
   * What a report shows for a stored id: the configured name of a declared agent, the stored id otherwise.
   * In a hashed lake, a raw id is a row written before the option was turned on (the history split the
   * stage accepted, `lake.acceptAgentHistorySplit`): it is shown as `unhashed:<id>`, so that half of an
   * agent's history never passes for, or overwrites, the agent's current figures under its name.
   */
  displayName(storedId: string): string {
    const declared = this.declaredAgentOf(storedId);
    if (declared !== undefined) return declared;
    return this.hashed && !isPseudonym(storedId) ? `${UNHASHED_PREFIX}${storedId}` : storedId;
  }
}
