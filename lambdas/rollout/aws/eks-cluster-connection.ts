/**
 * Where an EKS cluster's Kubernetes API is and which CA signs it, read from EKS (DescribeCluster)
 * rather than configured: the values cannot go stale in a stage file, and a CA (about 1.5 KB of
 * base64) would otherwise ride in every Lambda's environment, whose limit is 4 KB. IAM:
 * eks:DescribeCluster on the cluster's ARN.
 */
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';

export interface EksClusterConnection {
  /** `https://<id>.<suffix>.<region>.eks.amazonaws.com` */
  readonly endpoint: string;
  /** Base64 of the CA's PEM, as DescribeCluster's `certificateAuthority.data` gives it. */
  readonly certificateAuthority: string;
}

/** Looks a cluster's connection up by name. */
export type DescribeEksCluster = (clusterName: string) => Promise<EksClusterConnection>;

/** DescribeCluster through the given client; a cluster still being created has no endpoint yet and is refused. */
export function describeEksClusterWith(client: Pick<EKSClient, 'send'>): DescribeEksCluster {
  return async (clusterName) => {
    const { cluster } = await client.send(new DescribeClusterCommand({ name: clusterName }));
    const endpoint = cluster?.endpoint;
    const certificateAuthority = cluster?.certificateAuthority?.data;
    if (endpoint === undefined || certificateAuthority === undefined || endpoint === '' || certificateAuthority === '') {
      throw new Error(`EKS cluster ${clusterName} (status ${cluster?.status ?? 'unknown'}) reports no API endpoint or certificate authority yet`);
    }
    return { endpoint, certificateAuthority };
  };
}
