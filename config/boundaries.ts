/**
 * Data boundaries and the AWS regions that belong to each (the regional gate).
 * Shared by config validation (a stage deploys inside its boundary) and the gate Lambda (a trace is
 * kept only when its data region belongs to the stage's boundary). Pure data: safe to bundle.
 */
export const DATA_BOUNDARIES = ['US', 'EU', 'KR'] as const;
export type DataBoundary = (typeof DATA_BOUNDARIES)[number];

export const BOUNDARY_REGIONS: Readonly<Record<DataBoundary, readonly string[]>> = {
  US: ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'],
  EU: ['eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1', 'eu-south-1', 'eu-south-2'],
  KR: ['ap-northeast-2'],
};

/**
 * The boundary a trace's declared data region belongs to, or undefined when the region is unknown.
 * Accepts an AWS region code (`eu-west-1`) or a boundary name (`EU`), case-insensitively.
 */
export function boundaryOfRegion(region: string): DataBoundary | undefined {
  const normalised = region.trim();
  const upper = normalised.toUpperCase();
  const asBoundary = DATA_BOUNDARIES.find((b) => b === upper);
  if (asBoundary !== undefined) return asBoundary;
  const lower = normalised.toLowerCase();
  return DATA_BOUNDARIES.find((b) => BOUNDARY_REGIONS[b].includes(lower));
}
