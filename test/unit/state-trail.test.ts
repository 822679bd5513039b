import { collapseStates } from '../../local/state-trail';

describe('collapseStates', () => {
  it('prints a loop round once with its count', () => {
    const trail = ['Set', 'Bake', 'Check', 'Healthy?', 'Bake', 'Check', 'Healthy?', 'Bake', 'Check', 'Healthy?', 'Advance'];
    expect(collapseStates(trail)).toBe('Set -> [Bake -> Check -> Healthy?] x3 -> Advance');
  });

  it('leaves a trail without repeats as it is', () => {
    expect(collapseStates(['A', 'B', 'C'])).toBe('A -> B -> C');
    expect(collapseStates(['A', 'A', 'B'])).toBe('[A] x2 -> B');
  });
});
