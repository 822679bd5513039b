/**
 * The gate-and-score Lambda: the Firehose transformation that gates, masks and scores every trace and
 * routes each output row to its Iceberg table.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { DataBoundary } from '../../config/boundaries';
import { parseSageMakerEndpoint, type PiiConfig } from '../../config/schema';
import type { OperationsConfig } from '../../config/operations';
import { GATE_ENV, gateConfigDigest, gateConfigFromStage, type GateConfig } from '../../lambdas/gate-score/gate-config';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { PROJECT_ROOT, createEsmFunction } from './private/esm-function';

/** An agent and the latency it promises (the reward's latency component is measured against it). */
export interface AgentSlo {
  /** Agent id as it appears in traces. */
  readonly id: string;
  /** Latency SLO in milliseconds. */
  readonly latencySloMs: number;
}

/** Properties of {@link TraceGateFunction}. */
export interface TraceGateFunctionProps {
  /** Stage name, e.g. `prod-eu`. */
  readonly stage: string;
  /** The data boundary this deployment serves; traces from any other boundary are discarded. */
  readonly dataBoundary: DataBoundary;
  /**
   * PII scanning settings (Comprehend languages, entity detector endpoints, pattern-only risk
   * acceptances, retries, concurrency). The function may invoke exactly the entity detector endpoints.
   */
  readonly pii: PiiConfig;
  /** Agents with their latency SLOs. */
  readonly agents: readonly AgentSlo[];
  /** The stage's target models: their metric series are their own, other models share one. */
  readonly targetModels: ReadonlyArray<{ readonly id: string }>;
  /** Token and serving prices per model: the gate prices traces that arrive without a cost (absent: none are priced). */
  readonly operations?: Pick<OperationsConfig, 'modelPrices'>;
  /** SLO for agents not listed in {@link agents}. */
  readonly defaultLatencySloMs: number;
  /** The reward policy object (bin/ reads and validates the JSON file; constructs never read files). */
  readonly rewardPolicy: RewardPolicy;
  /** Glue database of the lake tables (rows are routed to it with Firehose `otfMetadata`). */
  readonly databaseName: string;
  /** Table kept traces are written to. */
  readonly tracesTable: string;
  /** Table the content-free audit rows of discarded traces are written to. */
  readonly auditTable: string;
  /** CloudWatch namespace of the EMF metrics (POWERTOOLS_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  /**
   * The stage's pseudonymisation key (see PseudonymisationKey). The function reads it once per
   * execution environment and stores session ids only as keyed pseudonyms; it gates nothing without it.
   */
  readonly pseudonymisationKey: secretsmanager.ISecret;

  /**
   * `lake.hashAgentIds`: rows carry the agent id's keyed pseudonym under {@link pseudonymisationKey}
   * (the gate already reads it), metrics the declared agents' ids.
   *
   * @default - agent ids stored as the producers send them
   */
  readonly lake?: { readonly hashAgentIds?: boolean };

  /**
   * Powertools service name (POWERTOOLS_SERVICE_NAME), the `service` dimension of every metric.
   *
   * @default 'trace-gate'
   */
  readonly serviceName?: string;

  /**
   * The handler module (exports `handler`).
   *
   * @default lambdas/gate-score/handler.ts
   */
  readonly entry?: string;

  /**
   * Memory in MiB (CPU scales with it).
   *
   * @default 1024
   */
  readonly memorySize?: number;

  /**
   * Invocation timeout; Firehose allows a transformation at most 5 minutes.
   *
   * @default Duration.minutes(2)
   */
  readonly timeout?: Duration;

  /**
   * Concurrency reserved for (and capping) the function.
   *
   * @default - no reservation: the function draws on the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Retention of the function's log group.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log group when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Firehose gives a transformation Lambda at most this long. */
const FIREHOSE_MAX_TIMEOUT = Duration.minutes(5);

/**
 * The gate/score function, bundled from lambdas/gate-score/handler.ts. Its whole configuration travels
 * as one JSON environment variable, GATE_CONFIG, validated here against the Lambda's own schema so a
 * bad stage fails at synth rather than on the first invocation; GATE_CONFIG_SHA256 carries its digest,
 * which the cold start checks instead of validating again (the bundle carries no schema). It may read the pseudonymisation key
 * (PSEUDONYMISATION_KEY_SECRET_ARN), and nothing else of Secrets Manager.
 */
export class TraceGateFunction extends Construct {
  /** The function Firehose invokes as its processor. */
  public readonly function: nodejs.NodejsFunction;
  /** The function's execution role. */
  public readonly role: iam.Role;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The configuration passed as GATE_CONFIG. */
  public readonly gateConfig: GateConfig;
  /** ARNs of the named-entity endpoints the function may invoke (empty when the stage configures none). */
  public readonly entityDetectorEndpointArns: readonly string[];

  constructor(scope: Construct, id: string, props: TraceGateFunctionProps) {
    super(scope, id);

    const timeout = props.timeout ?? Duration.minutes(2);
    if (timeout.toSeconds() < 1 || timeout.toSeconds() > FIREHOSE_MAX_TIMEOUT.toSeconds()) {
      throw new Error(`TraceGateFunction: timeout is ${timeout.toSeconds()} s; Firehose transformations must finish within 1 to ${FIREHOSE_MAX_TIMEOUT.toSeconds()} s`);
    }
    const memorySize = props.memorySize ?? 1024;
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
      throw new Error(`TraceGateFunction: memorySize is ${memorySize} MiB; expected a whole number from 128 to 10240`);
    }
    if (props.reservedConcurrentExecutions !== undefined && (!Number.isInteger(props.reservedConcurrentExecutions) || props.reservedConcurrentExecutions < 1)) {
      throw new Error(`TraceGateFunction: reservedConcurrentExecutions is ${props.reservedConcurrentExecutions}; expected a positive whole number or none`);
    }
    const agentIds = new Set<string>();
    for (const agent of props.agents) {
      if (agentIds.has(agent.id)) throw new Error(`TraceGateFunction: agent "${agent.id}" is listed twice; expected unique agent ids`);
      agentIds.add(agent.id);
    }

    this.gateConfig = gateConfigFromStage(props, props.rewardPolicy, props);
    const gateConfigJson = JSON.stringify(this.gateConfig);
    // The digest is of the text as synthesised: a token resolved at deployment would change the text.
    if (Token.isUnresolved(gateConfigJson)) {
      throw new Error('TraceGateFunction: the gate configuration holds an unresolved token; GATE_CONFIG must be plain values, since its SHA-256 is fixed at synthesis');
    }

    const parts = createEsmFunction(this, {
      entry: props.entry ?? path.join(PROJECT_ROOT, 'lambdas', 'gate-score', 'handler.ts'),
      description: `Gates, masks and scores traces for the ${props.stage} trace stream (Firehose transformation)`,
      memorySize,
      timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        [GATE_ENV.config]: gateConfigJson,
        [GATE_ENV.configSha256]: gateConfigDigest(gateConfigJson),
        [GATE_ENV.pseudonymisationKeySecretArn]: props.pseudonymisationKey.secretArn,
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'trace-gate',
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
      },
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      logRemovalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.function = parts.fn;
    this.role = parts.role;
    this.logGroup = parts.logGroup;

    props.pseudonymisationKey.grantRead(this.role);

    // DetectPiiEntities is a stateless text API: IAM offers no resource to scope it to.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['comprehend:DetectPiiEntities'], resources: ['*'] }));
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'comprehend:DetectPiiEntities and the X-Ray actions added for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) support no resource-level permissions; they are granted on * and nothing else is.',
    });

    // The named-entity endpoints are deployed by the serving team, not by this stack, so their ARNs
    // are formed here, in the stack's own account and region (where config validation holds them).
    // SageMaker lower-cases names in ARNs, and IAM compares them as written.
    const endpointNames = new Set(Object.values(props.pii.entityDetectors).map((detector) => parseSageMakerEndpoint(detector.endpoint).name.toLowerCase()));
    this.entityDetectorEndpointArns = [...endpointNames]
      .sort()
      .map((name) => Stack.of(this).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: name }));
    if (this.entityDetectorEndpointArns.length > 0) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [...this.entityDetectorEndpointArns] }));
    }
  }
}
