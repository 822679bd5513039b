/**
 * Nothing trains without a human's approval (the automation boundary), proved on the graph of the synthesized
 * state machine: remove the training approval state and Train must be unreachable from the start.
 */
import { loadStageConfig } from '../../config';
import type { AslDefinition, AslState } from '../../stepfunctions/render-asl';
import { TRAINING_STATES as S } from '../../stepfunctions/training-pipeline-states';
import { synthesizePipeline } from '../../local/pipeline/synthesized-pipeline';

/** Every state a state can hand over to: Next, Default, each Choice rule, each Catch. */
function successors(state: AslState): string[] {
  const next: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === 'string') next.push(value);
  };
  add(state.Next);
  add(state.Default);
  for (const rule of (state.Choices as Array<{ Next?: unknown }> | undefined) ?? []) add(rule.Next);
  for (const handler of (state.Catch as Array<{ Next?: unknown }> | undefined) ?? []) add(handler.Next);
  return next;
}

function reachable(definition: AslDefinition, without: ReadonlySet<string>): Set<string> {
  const seen = new Set<string>();
  const queue = [definition.StartAt];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name) || without.has(name)) continue;
    seen.add(name);
    const state = definition.States[name];
    if (state === undefined) throw new Error(`the definition names a state "${name}" it does not declare`);
    queue.push(...successors(state));
  }
  return seen;
}

describe.each(['dev', 'prod-eu', 'prod-kr'])('approval gate on the %s pipeline graph', (stageName) => {
  const { definition } = synthesizePipeline(loadStageConfig(stageName));

  it('reaches Train and every other state from the start (the graph is connected)', () => {
    const all = reachable(definition, new Set());
    expect(all.has(S.train)).toBe(true);
    expect([...all].sort()).toEqual(Object.keys(definition.States).sort());
  });

  const hasRouter = definition.States[S.trainRouter] !== undefined;

  it('cannot reach Train, Train router, Evaluate or Register model once the training approval is removed', () => {
    const withoutApproval = reachable(definition, new Set([S.requestTrainingApproval]));
    for (const state of [S.train, S.trainRouter, S.prepareRouterJob, S.evaluate, S.registerModel]) expect([state, withoutApproval.has(state)]).toEqual([state, false]);
  });

  it('enters Train (and Train router) only from the training approval, and only on its success path', () => {
    // With a router target, the approval's success goes to `Which trainer?`, which nothing else enters.
    const gate = hasRouter ? S.whichTrainer : S.train;
    const into = Object.entries(definition.States).filter(([, state]) => successors(state).includes(S.train));
    expect(into.map(([name]) => name)).toEqual([gate === S.train ? S.requestTrainingApproval : S.whichTrainer]);
    if (hasRouter) {
      expect(Object.entries(definition.States).filter(([, state]) => successors(state).includes(S.whichTrainer)).map(([name]) => name)).toEqual([S.requestTrainingApproval]);
      expect(Object.entries(definition.States).filter(([, state]) => successors(state).includes(S.prepareRouterJob)).map(([name]) => name)).toEqual([S.whichTrainer]);
      expect(Object.entries(definition.States).filter(([, state]) => successors(state).includes(S.trainRouter)).map(([name]) => name)).toEqual([S.prepareRouterJob]);
    }
    const approval = definition.States[S.requestTrainingApproval]!;
    expect(approval.Next).toBe(gate);
    expect(((approval.Catch as Array<{ Next: string }>) ?? []).map((c) => c.Next)).not.toContain(S.train);
    expect(approval.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
  });
});
