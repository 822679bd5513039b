import { groupIdOf, groupKeyText } from '../../lambdas/pipeline/dataset/group-key';

const user = (content: string) => ({ role: 'user', content });

describe('group key', () => {
  it('spells different prompts differently, however their pieces could be re-split', () => {
    const spelled = [
      groupKeyText('a', [], []),
      groupKeyText('a', [], ['']),
      groupKeyText('a', [user('')], []),
      groupKeyText('a', [user('x\u001ey')], []),
      groupKeyText('a', [user('x'), user('y')], []),
      groupKeyText('a', [user('x\\')], ['y']),
      groupKeyText('a', [user('x')], ['\\y']),
      groupKeyText('a', [user('x\u001d2\u001e')], []),
      groupKeyText('a', [{ role: 'system', content: 'x' }], []),
    ];
    expect(new Set(spelled).size).toBe(spelled.length);
  });

  it('is 24 hex digits, the same for the same agent and prompt, different for another agent', () => {
    const id = groupIdOf('agent-a', [user('What is our refund policy? 🙏')], ['ctx']);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(groupIdOf('agent-a', [user('What is our refund policy? 🙏')], ['ctx'])).toBe(id);
    expect(groupIdOf('agent-b', [user('What is our refund policy? 🙏')], ['ctx'])).not.toBe(id);
  });
});
