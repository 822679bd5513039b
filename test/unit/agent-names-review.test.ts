/**
 * Judge review e-mails and pages of a stage with lake.hashAgentIds: a review item holds the agent id as
 * the lake stores it (the pseudonym); what a reviewer reads names a declared agent by its configured id,
 * and any other agent by its pseudonym.
 */
import { AgentIdentities } from '../../lambdas/shared/agent-pseudonyms';
import { createPseudonymiser } from '../../lambdas/shared/pseudonymisation';
import { reviewLinksEmail } from '../../lambdas/judge/calibration/aws/review-links-email';
import { agentIdentitiesFromEnv } from '../../lambdas/judge/calibration/aws/wiring';
import { CALIBRATION_ENV } from '../../lambdas/judge/calibration/calibration-env';
import { reviewFormPage } from '../../lambdas/judge/calibration/review-page';
import type { ReviewItem } from '../../lambdas/judge/calibration/review-item';

const identities = AgentIdentities.hashed(['rag-qa-agent'], createPseudonymiser(Buffer.alloc(32, 7)));
const declared = identities.stored('rag-qa-agent');
const undeclared = identities.stored('someone-else');

const item = (agentId: string, n: number): ReviewItem => ({
  itemId: `rv-${String(n).padStart(32, '0')}`,
  traceId: `trace-${n}`,
  agentId,
  week: '2026-W49',
  band: 'band-1',
  judgePromptHash: 'sha256:abc',
  sampledAt: '2026-11-30T06:00:00.000Z',
  status: 'open',
});

describe('review e-mails and pages with lake.hashAgentIds', () => {
  it('the e-mail names the declared agent, shows the pseudonym of an undeclared one, and never the raw undeclared id', () => {
    const email = reviewLinksEmail('dev', '2026-W49', [{ item: item(declared, 1), url: 'https://x/1' }, { item: item(undeclared, 2), url: 'https://x/2' }], new Date('2026-12-07T00:00:00Z'), (id) => identities.displayName(id));
    expect(email.message).toContain('rag-qa-agent / band-1:');
    expect(email.message).toContain(`${undeclared} / band-1:`);
    expect(email.message).not.toContain(declared);
    expect(email.message).not.toContain('someone-else');
  });

  it('the page title names the agent it is given; the item keeps the stored id (the review row copies it)', () => {
    const trace = { traceId: 'trace-1', agentId: declared, routeTier: null, messages: [{ role: 'user', content: 'q' }], contexts: [], answer: 'a', toolCalls: [] };
    const page = reviewFormPage(item(declared, 1), trace, { exp: '1', sig: 's' }, {}, identities.displayName(declared));
    expect(page).toContain('Review rag-qa-agent trace trace-1');
    expect(page).not.toContain(declared);
    // Without a name, as before: the stored id.
    expect(reviewFormPage(item('plain-agent', 1), { ...trace, agentId: 'plain-agent' }, { exp: '1', sig: 's' })).toContain('Review plain-agent trace trace-1');
  });

  it('the functions learn the declared agents from CALIBRATION_HASHED_AGENTS only; without it nothing is read', () => {
    expect(agentIdentitiesFromEnv({})).toBeUndefined();
    expect(() => agentIdentitiesFromEnv({ [CALIBRATION_ENV.hashedAgents]: '{"a":1}', [CALIBRATION_ENV.pseudonymisationSecretArn]: 'arn:x' })).toThrow('must be a JSON list of agent ids');
    expect(agentIdentitiesFromEnv({ [CALIBRATION_ENV.hashedAgents]: '["rag-qa-agent"]', [CALIBRATION_ENV.pseudonymisationSecretArn]: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:k' })).toBeInstanceOf(Function);
  });
});
