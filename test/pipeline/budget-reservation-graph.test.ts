/**
 * A run's GPU reservation is given back however the run ends, proved on the graph of the synthesized
 * state machine: from every state where a run holds a reservation, no terminal state is reachable once
 * the two release states are removed. The executed half (the ledger holds nothing after success,
 * failures and FinOps rejection) is in state-machine.test.ts.
 */
import { loadStageConfig } from '../../config';
import { synthesizePipeline } from '../../local/pipeline/synthesized-pipeline';
import { TRAINING_STATES as S } from '../../stepfunctions/training-pipeline-states';
import { reachable } from '../helpers/asl-graph';

const RELEASES = new Set<string>([S.releaseGpuReservation, S.releaseGpuReservationAfterFailure]);

describe.each(['dev', 'prod-eu', 'prod-kr'])('GPU reservation release on the %s pipeline graph', (stageName) => {
  const { definition } = synthesizePipeline(loadStageConfig(stageName));
  const terminals = Object.entries(definition.States).filter(([, state]) => state.Type === 'Succeed' || state.Type === 'Fail').map(([name]) => name);

  it.each([S.reserveGpuBudgetApprovedByFinops, S.train])('every way to end from %s passes a release state', (holding) => {
    const withoutRelease = reachable(definition, RELEASES, holding);
    expect(terminals.filter((name) => withoutRelease.has(name))).toEqual([]);
    // ... and the releases themselves are on those paths (the check above is not vacuous).
    const all = reachable(definition, new Set(), holding);
    expect(terminals.filter((name) => all.has(name)).length).toBeGreaterThan(0);
    expect([...RELEASES].every((name) => all.has(name))).toBe(true);
  });

  it('a reservation that fails (the Lambda errored, perhaps after writing) also goes through the release', () => {
    const catches = (definition.States[S.reserveGpuBudget]!.Catch as Array<{ Next: string }>).map((c) => c.Next);
    expect(catches).toEqual([S.releaseGpuReservationAfterFailure]);
  });

  it('releases with the run id taken from the execution name (present even when Validate request failed)', () => {
    for (const name of RELEASES) {
      expect(definition.States[name]!.Parameters).toEqual({ operation: 'release', 'executionName.$': '$$.Execution.Name' });
    }
  });
});
