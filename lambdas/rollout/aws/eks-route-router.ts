/**
 * EKS adapter of the TrafficRouter port: reads and patches the Gateway API HTTPRoute through the
 * cluster's Kubernetes API, as the rollback Lambdas do (the state machine's own steps use the eks:call
 * integration with the same merge patch, lambdas/rollout/eks/http-route.ts).
 *
 * What the cluster needs: an access entry (or aws-auth mapping) for the Lambda's role bound to a role
 * that may `get` and `patch` `httproutes.gateway.networking.k8s.io` in the route's namespace; the
 * Lambda needs network reach to the cluster's endpoint and IAM permission only for eks:DescribeCluster
 * (where the API is and its CA; the token is signed with its own credentials, and
 * sts:GetCallerIdentity needs no permission).
 */
import type { RolloutTarget } from '../../../config/schema';
import type { RolloutPlan, TrafficWeights } from '../contracts';
import { TrafficTargetBusy } from '../errors';
import { MERGE_PATCH_CONTENT_TYPE, backendsOf, httpRoutePath, routeFromCallResult, routeWeights, routeWeightsMergePatch, type EksTarget } from '../eks/http-route';
import type { TrafficRouter } from '../ports';
import type { DescribeEksCluster } from './eks-cluster-connection';
import { EksTokenSource, type CredentialProvider } from './eks-token';
import { KubernetesApi, KubernetesApiError, type HttpsTransport } from './kubernetes-api';

function eksTarget(target: RolloutTarget): EksTarget {
  if (target.kind !== 'eks') throw new Error(`the EKS route router was given a ${target.kind} target`);
  return target;
}

/** How the router reaches clusters. */
export interface EksRouteRouterOptions {
  /** The Lambda's region (its STS endpoint signs the tokens). */
  readonly region: string;
  readonly credentials: CredentialProvider;
  /** Where each cluster's API is and its CA (EKS DescribeCluster), looked up once per cluster. */
  readonly describeCluster: DescribeEksCluster;
  readonly transport?: HttpsTransport;
  readonly clock?: () => Date;
}

export class EksRouteRouter implements TrafficRouter {
  private readonly clients = new Map<string, Promise<KubernetesApi>>();

  constructor(private readonly options: EksRouteRouterOptions) {}

  async readWeights(target: RolloutTarget, plan: RolloutPlan): Promise<TrafficWeights> {
    const eks = eksTarget(target);
    return this.withCluster(eks, async (api) => routeWeights(routeFromCallResult(await api.get(httpRoutePath(eks))), backendsOf(plan)));
  }

  async setWeights(target: RolloutTarget, plan: RolloutPlan, weights: TrafficWeights): Promise<void> {
    const eks = eksTarget(target);
    await this.withCluster(eks, async (api) => {
      const path = httpRoutePath(eks);
      const route = routeFromCallResult(await api.get(path));
      try {
        await api.patch(path, routeWeightsMergePatch(route, backendsOf(plan), weights), MERGE_PATCH_CONTENT_TYPE);
      } catch (error) {
        // 409: the route changed between our read and our patch (the state machine patching at the same
        // moment); read it again and retry rather than overwrite what we have not seen.
        if (error instanceof KubernetesApiError && error.status === 409) throw new TrafficTargetBusy(`HTTPRoute ${eks.namespace}/${eks.httpRouteName} changed while it was being patched: ${error.message}`);
        throw error;
      }
    });
  }

  /**
   * Runs `work` with the cluster's client. A failure below HTTP (connection refused, TLS, timeout)
   * forgets the client, so the next call describes the cluster again: a recreated cluster has a new
   * endpoint and CA, and a warm rollback function must not keep trying the old ones.
   */
  private async withCluster<T>(target: EksTarget, work: (api: KubernetesApi) => Promise<T>): Promise<T> {
    const api = await this.api(target);
    try {
      return await work(api);
    } catch (error) {
      if (!(error instanceof KubernetesApiError) && !(error instanceof TrafficTargetBusy)) this.clients.delete(target.clusterName);
      throw error;
    }
  }

  /**
   * One client per cluster, each with its own token (a token names one cluster). A failed lookup is
   * not kept, so the next call (the rollback's retry) asks EKS again.
   */
  private api(target: EksTarget): Promise<KubernetesApi> {
    let api = this.clients.get(target.clusterName);
    if (api === undefined) {
      api = this.connect(target.clusterName);
      this.clients.set(target.clusterName, api);
      api.catch(() => this.clients.delete(target.clusterName));
    }
    return api;
  }

  private async connect(clusterName: string): Promise<KubernetesApi> {
    const { endpoint, certificateAuthority } = await this.options.describeCluster(clusterName);
    const tokens = new EksTokenSource({ clusterName, region: this.options.region, credentials: this.options.credentials }, this.options.clock);
    return new KubernetesApi({
      endpoint,
      certificateAuthority,
      token: () => tokens.token(),
      ...(this.options.transport === undefined ? {} : { transport: this.options.transport }),
    });
  }
}
