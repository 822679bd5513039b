/**
 * How a stage names a SageMaker endpoint (a name, or an ARN), without a schema library: the PII
 * settings' schema (pii.ts) checks the form at synthesis, and the gate, which bundles no schema,
 * reads an endpoint's name with {@link parseSageMakerEndpoint}.
 */

/** A SageMaker endpoint name, as SageMaker accepts it. */
export const SAGEMAKER_ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
/** A SageMaker endpoint ARN: partition, region, account and name as capture groups. */
export const SAGEMAKER_ENDPOINT_ARN = /^arn:(aws[a-z-]*):sagemaker:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):endpoint\/([a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})$/;

/** The parts of a SageMaker endpoint reference given as a name or an ARN. */
export interface SageMakerEndpointRef {
  readonly name: string;
  /** Only when the reference is an ARN. */
  readonly region?: string;
  readonly account?: string;
}

/**
 * Reads an entity detector's `endpoint` (a name, or an ARN). The gate always invokes the endpoint by
 * name in its own region and account; an ARN is accepted only to be checked against the stage.
 *
 * @throws Error when the value is neither
 */
export function parseSageMakerEndpoint(endpoint: string): SageMakerEndpointRef {
  if (SAGEMAKER_ENDPOINT_NAME.test(endpoint)) return { name: endpoint };
  const arn = SAGEMAKER_ENDPOINT_ARN.exec(endpoint);
  if (arn === null) throw new Error(`"${endpoint}" is neither a SageMaker endpoint name nor an endpoint ARN`);
  return { name: arn[4] ?? '', region: arn[2] ?? '', account: arn[3] ?? '' };
}
