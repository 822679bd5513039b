/**
 * An Athena workgroup of the loop: engine v3, CloudWatch metrics, and a result location that queries
 * cannot override, under the artifact bucket's `athena-results/`, encrypted with the bucket's key.
 */
import * as athena from 'aws-cdk-lib/aws-athena';
import type { Construct } from 'constructs';
import type { ArtifactStore } from '../artifact-store';

export function lakeQueryWorkGroup(scope: Construct, id: string, props: { readonly name: string; readonly description: string; readonly artifacts: ArtifactStore }): athena.CfnWorkGroup {
  return new athena.CfnWorkGroup(scope, id, {
    name: props.name,
    description: props.description,
    recursiveDeleteOption: true,
    state: 'ENABLED',
    workGroupConfiguration: {
      // Queries cannot pick another (unencrypted) result location.
      enforceWorkGroupConfiguration: true,
      publishCloudWatchMetricsEnabled: true,
      engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
      resultConfiguration: {
        outputLocation: props.artifacts.uriOf(props.artifacts.queryResultsPrefix),
        encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.artifacts.key.keyArn },
      },
    },
  });
}
