/**
 * Powertools singletons, created once per execution environment. Service name and metrics namespace
 * come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE, set by each function's construct.
 *
 * No Powertools Tracer: it bundles the X-Ray SDK (about 120 KiB, half of a bundle's budget). Lambda's
 * active tracing still records every invocation's segment (initialization, invocation, overhead) and
 * the AWS SDK forwards the trace header to the services it calls (docs/decisions.md, "Lambda bundles").
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger();
export const metrics = new Metrics();
