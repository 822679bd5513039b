/**
 * The local run's HTML report in a real browser: it must draw every chart from its embedded data with
 * the inlined library while its own Content-Security-Policy forbids any network, and show no script
 * error. A screenshot is saved as a test artifact (test-artifacts/run-report.png) for a person to look at.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { candidateTimeline, histogramOf, type RunReportData } from '../../local/run/report/report-data';
import { chartJsSource, renderReportHtml } from '../../local/run/report/render-report';
import { chromiumPath, describeInChromium } from '../helpers/chromium';

const ARTIFACTS = resolve(__dirname, '..', '..', 'test-artifacts');

const DATA: RunReportData = {
  title: 'Local run: stage dev, model qwen3-4b, scenario regression </script><b>x</b>',
  outcome: 'rolled back: the canary alarm fired during the rollout',
  exitCode: 8,
  funnel: [
    { label: 'records in', value: 1504 },
    { label: 'kept in the lake', value: 858 },
    { label: 'discarded by a gate', value: 642 },
    { label: 'malformed', value: 3 },
    { label: 'duplicates', value: 1 },
  ],
  discards: [
    { label: 'confidentiality/restricted', value: 169 },
    { label: 'consent/consent_withheld', value: 129 },
  ],
  rewards: histogramOf([
    { variant: 'current', bin: 9, n: 500 },
    { variant: 'current', bin: 5, n: 60 },
    { variant: 'candidate', bin: 4, n: 120 },
    { variant: 'candidate', bin: 9, n: 150 },
  ]),
  judgeScores: histogramOf([
    { variant: 'current', bin: 9, n: 560 },
    { variant: 'candidate', bin: 3, n: 90 },
  ]),
  agreement: [
    { dimension: 'faithfulness', reviewed: 20, kappa: 0.86, lower: 0.59, upper: 1 },
    { dimension: 'misroute', reviewed: 20, kappa: 0.5, lower: 0.05, upper: 0.95 },
  ],
  canary: {
    points: candidateTimeline([
      '[SIMULATED] 2026-12-04T02:02:29.618Z SageMaker endpoint sial-dev-qwen3-4b: weights now qwen3-4b-v1=90, qwen3-4b-v2=10',
      '[SIMULATED] 2026-12-04T02:32:49.618Z SageMaker endpoint sial-dev-qwen3-4b: weights now qwen3-4b-v1=50, qwen3-4b-v2=50',
      '[SIMULATED] 2026-12-04T02:40:00.000Z SageMaker endpoint sial-dev-qwen3-4b: weights now qwen3-4b-v1=100, qwen3-4b-v2=0',
    ]),
    markers: [
      { at: '2026-12-04T02:36:00.000Z', label: 'candidate degrades' },
      { at: '2026-12-04T02:38:30.000Z', label: 'canary alarm' },
      { at: '2026-12-04T02:40:00.000Z', label: 'rollback verified' },
    ],
  },
  budget: { month: '2026-12', ceiling: 100, before: 0, after: 20, booked: [{ label: 'train (2 attempt(s))', hours: 18 }, { label: 'eval (1 attempt(s))', hours: 2 }] },
};

describe('report data', () => {
  it('reads the candidate share from the simulated target\'s verified weight changes only', () => {
    expect(DATA.canary!.points.map((p) => p.candidatePercent)).toEqual([10, 50, 0]);
    expect(candidateTimeline(['[SIMULATED] 2026-12-04T02:02:09.618Z SageMaker endpoint e: weights asked: a=90, b=10', 'garbage'])).toEqual([]);
  });

  it('bins scores into ten bins per variant', () => {
    expect(DATA.rewards.bins).toHaveLength(10);
    expect(DATA.rewards.byVariant.candidate).toEqual([0, 0, 0, 0, 120, 0, 0, 0, 0, 150]);
  });
});

describeInChromium('run-report-browser', 'the run report in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox'] });
    dir = mkdtempSync(join(tmpdir(), 'sial-report-'));
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart offline, with no script error and no request, and is saved as a screenshot', async () => {
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReportHtml(DATA, chartJsSource()));
    const page = await browser.newPage({ viewport: { width: 1240, height: 1100 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) problems.push(`request: ${request.url()}`);
    });
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: { charts?: string } } } }).document.body.dataset.charts !== undefined);
    expect(problems).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { body: { dataset: { charts?: string } } } }).document.body.dataset.charts)).toBe('7');
    // Every canvas has pixels drawn on it (a chart that failed would leave it blank).
    const inked = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ id: string; width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } }> } }).document;
      return Array.from(doc.querySelectorAll('canvas')).map((c) => {
        const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) painted += 1;
        return { id: c.id, painted };
      });
    });
    expect(inked.map((c) => c.id)).toEqual(['funnel', 'discards', 'rewards', 'judge', 'agreement', 'canary', 'budget']);
    for (const canvas of inked) expect({ id: canvas.id, painted: canvas.painted > 500 }).toEqual({ id: canvas.id, painted: true });
    // The title is text, never markup.
    expect(await page.title()).toBe(DATA.title);
    expect(await page.locator('h1 b').count()).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'run-report.png'), fullPage: true });
    await page.close();
  }, 60_000);
});
