/**
 * Layout helpers shared by the stage dashboard's sections (observability.ts, agent-dashboard.ts), and the
 * CloudWatch limit they are held to.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Columns of the CloudWatch dashboard grid. */
export const GRID_WIDTH = 24;

/** CloudWatch refuses a dashboard body with more widgets than this. */
export const MAX_DASHBOARD_WIDGETS = 500;

/** A full-width markdown heading with one line of explanation. */
export function heading(title: string, text: string): cloudwatch.TextWidget {
  return new cloudwatch.TextWidget({ markdown: `${title}\n${text}`, width: GRID_WIDTH, height: 2, background: cloudwatch.TextWidgetBackground.TRANSPARENT });
}

/** Height of an alarm status widget: a title row plus one row per four alarm tiles. */
export function alarmTileHeight(alarms: number): number {
  return 2 + Math.ceil(alarms / 4);
}

/** The widgets CloudWatch counts: rows and columns are layout only, their leaves are the widgets. */
export function widgetCount(widgets: readonly cloudwatch.IWidget[]): number {
  return widgets.reduce((n, w) => n + (w instanceof cloudwatch.Row || w instanceof cloudwatch.Column ? widgetCount(w.widgets) : 1), 0);
}
