/**
 * Cost attribution: what a request cost from its tokens and its model's prices (the stage's
 * `operations.modelPrices`), and the per-agent cost report's rows and CSV. Pure functions: the gate prices
 * each trace with them, the daily report formats what the lake sums.
 */

/** A model's prices (config/operations.ts `modelPriceSchema`; repeated here so the gate bundle stays free of the config's schema). */
export interface ModelPrice {
  readonly inputPer1kTokensUsd: number;
  readonly outputPer1kTokensUsd: number;
  readonly servingPerRequestUsd: number;
}

/**
 * The cost of one request: input and output tokens at the model's price plus the serving compute per
 * request. Null when the trace reports no token counts: a guessed cost would pass for a measured one.
 */
export function requestCostUsd(price: ModelPrice, inputTokens: number | undefined, outputTokens: number | undefined): number | null {
  if (inputTokens === undefined || outputTokens === undefined) return null;
  const cost = (inputTokens / 1000) * price.inputPer1kTokensUsd + (outputTokens / 1000) * price.outputPer1kTokensUsd + price.servingPerRequestUsd;
  // Micro-dollar precision: sums over millions of rows stay exact enough, and equal inputs give equal bytes.
  return Math.round(cost * 1e6) / 1e6;
}

/** One agent's line of the daily cost report. */
export interface AgentCostRow {
  readonly agent_id: string;
  readonly requests: number;
  readonly tokens_in: number;
  readonly tokens_out: number;
  readonly cost_usd: number;
  /** Requests without a cost (unpriced model, no token counts): the report says so rather than hiding them. */
  readonly unpriced_requests: number;
}

/** The report's columns, in order: `agent_id, tokens_in, tokens_out, cost_usd` first, as operators expect them. */
export const COST_REPORT_COLUMNS = ['agent_id', 'tokens_in', 'tokens_out', 'cost_usd', 'requests', 'unpriced_requests'] as const;

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The cost report as CSV (RFC 4180, a header line, `\n` line ends). */
export function costReportCsv(rows: readonly AgentCostRow[]): string {
  const lines = [COST_REPORT_COLUMNS.join(',')];
  for (const row of rows) lines.push(COST_REPORT_COLUMNS.map((c) => csvCell(c === 'cost_usd' ? row.cost_usd.toFixed(6) : row[c])).join(','));
  return `${lines.join('\n')}\n`;
}
