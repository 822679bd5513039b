import { boundaryOfRegion, type DataBoundary } from '../../../config/boundaries';
import type { Trace } from '../trace';
import type { Discard } from './verdict';

/**
 * Regional boundary gate (EU GDPR, KR PIPA): a trace is used only by the deployment of its own data
 * boundary. One deployment serves one boundary, so a trace from elsewhere is discarded at ingest.
 * Fail-closed: a missing or unknown region is a discard, never a guess.
 */
export function checkRegion(trace: Trace, stageBoundary: DataBoundary): Discard | undefined {
  if (trace.data_region === undefined) {
    return { gate: 'region', reason: 'missing_region: the trace declares no data region' };
  }
  const boundary = boundaryOfRegion(trace.data_region);
  if (boundary === undefined) {
    return { gate: 'region', reason: 'unknown_region: the data region is not in any known boundary' };
  }
  if (boundary !== stageBoundary) {
    return { gate: 'region', reason: `outside_boundary: ${boundary} trace in the ${stageBoundary} deployment` };
  }
  return undefined;
}
