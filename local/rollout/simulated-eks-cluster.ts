/**
 * SIMULATED EKS cluster connection for `npm run local` and the tests: what `Describe EKS cluster`
 * (aws-sdk:eks:describeCluster) returns in AWS, in the same shape, with an endpoint and a CA that say
 * they are simulated. The local eks:call overrides check that a call carries exactly these, which
 * proves the definition passes the described connection on to `Read HTTPRoute` and the patch.
 */

/** A cluster's simulated API endpoint (not reachable: nothing connects to it locally). */
export function simulatedClusterEndpoint(clusterName: string): string {
  return `https://simulated-eks.invalid/${encodeURIComponent(clusterName)}`;
}

/** Base64 of a PEM-shaped block that names itself SIMULATED (no real certificate). */
export const SIMULATED_CLUSTER_CA = Buffer.from('-----BEGIN CERTIFICATE-----\nSIMULATED-EKS-CLUSTER-CA\n-----END CERTIFICATE-----\n').toString('base64');

/** DescribeCluster's answer for `{ Name }`, as the SDK integration returns it (PascalCase). */
export function describeSimulatedCluster(input: unknown): { Cluster: { Name: string; Status: 'ACTIVE'; Endpoint: string; CertificateAuthority: { Data: string } } } {
  const name = (input as { Name?: unknown }).Name;
  if (typeof name !== 'string' || name === '') throw new Error(`Describe EKS cluster expects { Name }, got ${JSON.stringify(input)}`);
  return { Cluster: { Name: name, Status: 'ACTIVE', Endpoint: simulatedClusterEndpoint(name), CertificateAuthority: { Data: SIMULATED_CLUSTER_CA } } };
}

/** Refuses an eks:call whose connection is not the one `Describe EKS cluster` returned for its cluster. */
export function checkSimulatedClusterConnection(input: unknown): void {
  const { ClusterName, Endpoint, CertificateAuthority } = input as { ClusterName?: unknown; Endpoint?: unknown; CertificateAuthority?: unknown };
  if (typeof ClusterName !== 'string' || Endpoint !== simulatedClusterEndpoint(ClusterName) || CertificateAuthority !== SIMULATED_CLUSTER_CA) {
    throw new Error(`eks:call to ${String(ClusterName)} carries endpoint ${String(Endpoint)} and a CA that are not what Describe EKS cluster returned`);
  }
}
