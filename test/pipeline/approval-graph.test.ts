/**
 * Nothing trains without a human's approval (the automation boundary), proved on the graph of the synthesized
 * state machine: remove the training approval state and Train must be unreachable from the start.
 */
import { loadStageConfig } from '../../config';
import { TRAINING_STATES as S } from '../../stepfunctions/training-pipeline-states';
import { synthesizePipeline } from '../../local/pipeline/synthesized-pipeline';
import { reachable, successors } from '../helpers/asl-graph';

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

  it('enters Train only from a GPU reservation, and Train router only from the training approval, on their success paths', () => {
    const into = (target: string): string[] => Object.entries(definition.States).filter(([, state]) => successors(state).includes(target)).map(([name]) => name).sort();
    // Train: right after its `submitted` event, which follows only its `submitted` record, which is
    // entered only when the reservation held (`Budget reserved?` true) or held past the ceiling after a
    // FinOps approval; the record's and the event's own Catch lead to the failure path (or, for a record
    // already written, on to the event), never to Train.
    expect(into(S.train)).toEqual([S.emitTrainJobSubmitted]);
    expect(into(S.emitTrainJobSubmitted)).toEqual([S.recordTrainJobSubmitted]);
    expect(into(S.recordTrainJobSubmitted)).toEqual([S.budgetReserved, S.reserveGpuBudgetApprovedByFinops].sort());
    for (const name of [S.recordTrainJobSubmitted, S.emitTrainJobSubmitted]) {
      expect(((definition.States[name]!.Catch as Array<{ Next: string }>) ?? []).map((c) => c.Next)).not.toContain(S.train);
    }
    const reserved = definition.States[S.budgetReserved]!;
    expect((reserved.Choices as Array<{ Next: string; Variable: string; BooleanEquals: boolean }>).map((c) => [c.Variable, c.BooleanEquals, c.Next])).toEqual([['$.reservation.reserved', true, S.recordTrainJobSubmitted]]);
    expect(reserved.Default).toBe(S.prepareFinopsApprovalOfReservation);
    // The reservations are entered only after the training approval succeeded.
    expect(into(S.approvedByFinops)).toEqual([hasRouter ? S.whichTrainer : S.requestTrainingApproval]);
    expect(into(S.reserveGpuBudget)).toEqual([S.approvedByFinops]);
    expect(into(S.reserveGpuBudgetApprovedByFinops)).toEqual([S.approvedByFinops, S.requestFinopsApprovalOfReservation].sort());
    if (hasRouter) {
      expect(into(S.whichTrainer)).toEqual([S.requestTrainingApproval]);
      expect(into(S.prepareRouterJob)).toEqual([S.whichTrainer]);
      expect(into(S.trainRouter)).toEqual([S.emitRouterJobSubmitted]);
      expect(into(S.emitRouterJobSubmitted)).toEqual([S.recordRouterJobSubmitted]);
      expect(into(S.recordRouterJobSubmitted)).toEqual([S.prepareRouterJob]);
    }
    const approval = definition.States[S.requestTrainingApproval]!;
    expect(approval.Next).toBe(hasRouter ? S.whichTrainer : S.approvedByFinops);
    expect(((approval.Catch as Array<{ Next: string }>) ?? []).map((c) => c.Next)).not.toContain(S.train);
    expect(approval.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
  });
});
