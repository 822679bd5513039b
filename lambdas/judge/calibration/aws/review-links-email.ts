/**
 * The weekly e-mail to reviewers: one signed link per new queue item, nothing of the traces (ids, the
 * agent and the band only). The links are bearer credentials, valid until they expire and once.
 */
import type { ReviewItem } from '../review-item';

export interface ReviewLinksEmail {
  readonly subject: string;
  readonly message: string;
}

/**
 * `agentName` gives the name shown for an item's stored agent id (`lake.hashAgentIds`: the declared
 * agent's configured name where the id is its pseudonym); default: the stored id.
 */
export function reviewLinksEmail(
  stage: string,
  week: string,
  links: ReadonlyArray<{ readonly item: ReviewItem; readonly url: string }>,
  expiresAt: Date,
  agentName: (storedAgentId: string) => string = (id) => id,
): ReviewLinksEmail {
  return {
    subject: `sial ${stage}: ${links.length} judged traces to review (${week})`.slice(0, 99),
    message: [
      `This week's calibration sample of the LLM judge in ${stage}: ${links.length} items.`,
      'Score each answer yourself (faithfulness, answer relevance, misroute). The judge\'s scores are not shown.',
      `Each link works once and until ${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC. Do not forward them.`,
      '',
      ...links.flatMap(({ item, url }) => [`${agentName(item.agentId)} / ${item.band}:`, url, '']),
    ].join('\n'),
  };
}
