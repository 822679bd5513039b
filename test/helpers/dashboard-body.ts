/**
 * Reading the stage dashboard from a synthesized template: the DashboardBody with its tokens replaced by
 * placeholders, parsed to JSON; its widgets, metric rows and SEARCH expressions; and the series the
 * Lambdas' EMF documents actually print, to compare against what the dashboard reads.
 */
import type { Stack, CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { resourcesOfType } from './app';

export interface MetricOptions {
  readonly id?: string;
  readonly expression?: string;
  readonly label?: string;
  readonly stat?: string;
  readonly period?: number;
  readonly visible?: boolean;
  readonly yAxis?: string;
}
export type MetricRow = Array<string | MetricOptions>;
export interface Annotation {
  readonly value: number;
  readonly label?: string;
  readonly yAxis?: string;
}
export interface Widget {
  readonly type: 'text' | 'alarm' | 'metric';
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: {
    readonly title?: string;
    readonly markdown?: string;
    readonly alarms?: string[];
    readonly metrics?: MetricRow[];
    readonly annotations?: { readonly horizontal?: Annotation[] };
    readonly start?: string;
    readonly period?: number;
  };
}
export interface DashboardBody {
  readonly start?: string;
  readonly periodOverride?: string;
  readonly widgets: Widget[];
}

/** A metric row of a graph: a metric (namespace, name, dimensions) or an expression. */
export interface ReadMetric {
  readonly namespace?: string;
  readonly metricName?: string;
  readonly dimensions: Record<string, string>;
  readonly options: MetricOptions;
}

/** Placeholder of a CloudFormation token inside the body (never contains a quote or a backslash). */
export function placeholder(part: unknown): string {
  if (typeof part === 'string') return part;
  const token = part as Record<string, unknown>;
  if ('Fn::GetAtt' in token) {
    const [logicalId, attribute] = token['Fn::GetAtt'] as [string, string];
    return `<GetAtt:${logicalId}.${attribute}>`;
  }
  if ('Ref' in token) return `<Ref:${token.Ref as string}>`;
  if ('Fn::ImportValue' in token) return `<Import:${token['Fn::ImportValue'] as string}>`;
  throw new Error(`unexpected token in the dashboard body: ${JSON.stringify(part)}`);
}

export function dashboardOf(template: Template): { name: string; body: DashboardBody } {
  const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const props = dashboards[0]![1].Properties as { DashboardName: string; DashboardBody: string | { 'Fn::Join': [string, unknown[]] } };
  const raw = typeof props.DashboardBody === 'string' ? props.DashboardBody : props.DashboardBody['Fn::Join'][1].map(placeholder).join(props.DashboardBody['Fn::Join'][0]);
  return { name: props.DashboardName, body: JSON.parse(raw) as DashboardBody };
}

export function readRow(row: MetricRow): ReadMetric {
  const last = row[row.length - 1];
  const options = typeof last === 'object' ? last : {};
  const strings = row.filter((p): p is string => typeof p === 'string');
  if (strings.length === 0) return { dimensions: {}, options };
  const [namespace, metricName, ...pairs] = strings;
  const dimensions: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
  return { namespace, metricName, dimensions, options };
}

export function metricsOf(widget: Widget): ReadMetric[] {
  return (widget.properties.metrics ?? []).map(readRow);
}

export function graph(body: DashboardBody, title: string): Widget {
  const found = body.widgets.filter((w) => w.properties.title === title);
  expect({ title, count: found.length }).toEqual({ title, count: 1 });
  return found[0]!;
}

/** Metric name and sorted dimension names of every series a SEARCH expression reads: `name|D1,D2`. */
export function searchedSeries(expression: string): { namespace: string; key: string; values: Record<string, string> } {
  const match = /^SEARCH\('\{([^}]*)\} MetricName="([^"]+)"((?: [A-Za-z]+="[^"]*")*)', '(\w+)', (\d+)\)$/.exec(expression);
  if (match === null) throw new Error(`not a SEARCH this dashboard writes: ${expression}`);
  const [namespace, ...dimensions] = match[1]!.split(',').map((p) => JSON.parse(p) as string);
  const values = Object.fromEntries([...match[3]!.matchAll(/ ([A-Za-z]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  return { namespace: namespace!, key: `${match[2]}|${[...dimensions].sort().join(',')}`, values };
}

export function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}


type EmfDocument = Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** Every (metric name | sorted dimension names) the EMF documents printed by `publish` carry. */
export function emittedSeries(namespace: string, serviceName: string, publish: (metrics: Metrics) => void): Set<string> {
  const lines: string[] = [];
  const saved = { dev: process.env.POWERTOOLS_DEV, disabled: process.env.POWERTOOLS_METRICS_DISABLED };
  const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  try {
    // Dev mode prints EMF through the global console (spied here); it disables metrics unless told not to.
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const metrics = new Metrics({ namespace, serviceName });
    publish(metrics);
  } finally {
    spy.mockRestore();
    restoreEnv('POWERTOOLS_DEV', saved.dev);
    restoreEnv('POWERTOOLS_METRICS_DISABLED', saved.disabled);
  }
  const series = new Set<string>();
  for (const doc of lines.map((l) => JSON.parse(l) as EmfDocument)) {
    for (const directive of doc._aws.CloudWatchMetrics) {
      expect(directive.Namespace).toBe(namespace);
      for (const dims of directive.Dimensions) for (const m of directive.Metrics) series.add(`${m.Name}|${[...dims].sort().join(',')}`);
    }
  }
  return series;
}

/** Every (metric name | sorted dimension names) in the stage's namespace the dashboard reads. */
export function readSeries(body: DashboardBody, namespace: string): Set<string> {
  const series = new Set<string>();
  for (const m of body.widgets.flatMap(metricsOf)) {
    if (m.namespace === namespace) series.add(`${m.metricName}|${Object.keys(m.dimensions).sort().join(',')}`);
    if (m.options.expression?.startsWith('SEARCH') === true) series.add(searchedSeries(m.options.expression).key);
  }
  return series;
}

