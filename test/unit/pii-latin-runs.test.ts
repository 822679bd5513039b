import { MIN_RUN_LATIN_LETTERS, latinRuns } from '../../lambdas/gate-score/pii/latin-runs';

/** The run's text as cut from the original by its code-point offset: must equal run.text. */
const at = (text: string, start: number, length: number) => Array.from(text).slice(start, start + length).join('');

describe('latinRuns', () => {
  it('cuts the Latin passages out of Korean text, with code-point offsets into the original', () => {
    const text = '제 이름은 John Smith이고 주소는 221B Baker Street, London입니다.';
    const runs = latinRuns(text);
    expect(runs.map((r) => r.text)).toEqual(['John Smith', '221B Baker Street, London']);
    for (const run of runs) expect(at(text, run.start, Array.from(run.text).length)).toBe(run.text);
  });

  it('counts an emoji or an astral character before a run as one code point', () => {
    const text = '😀👍🏽 고객 Jane Doe 님 𝒳';
    const [run] = latinRuns(text);
    expect(run).toEqual({ text: 'Jane Doe', start: 7 });
    expect(at(text, 7, 8)).toBe('Jane Doe');
  });

  it('keeps a text without another script whole (a JSON tool payload), trimmed', () => {
    const payload = '  {"customer":"Jane Doe","address":"12 Rue de la Paix"}\n';
    expect(latinRuns(payload)).toEqual([{ text: payload.trim(), start: 2 }]);
  });

  it('keeps punctuation and accents inside a run, and splits at any other script', () => {
    expect(latinRuns('Müller, José — Иван Petrov').map((r) => r.text)).toEqual(['Müller, José —', 'Petrov']);
    expect(latinRuns('東京 Tanaka さん').map((r) => r.text)).toEqual(['Tanaka']);
  });

  it(`drops runs with fewer than ${MIN_RUN_LATIN_LETTERS} Latin letters: digits are the pattern detector's`, () => {
    expect(latinRuns('전화 010-1234-5678, A동 3층')).toEqual([]);
    expect(latinRuns('')).toEqual([]);
    expect(latinRuns('한국어만 있습니다')).toEqual([]);
    expect(latinRuns('a b')).toEqual([{ text: 'a b', start: 0 }]);
  });
});
