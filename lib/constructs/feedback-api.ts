/**
 * `POST /agents/{agent-id}/feedback`: agent adapters report request outcomes, which land in the
 * `feedback` Iceberg table through the feedback delivery stream.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FEEDBACK_ENV, MAX_FEEDBACK_BODY_BYTES } from '../../lambdas/feedback/handle-feedback';
import type { IcebergDeliveryStream } from './iceberg-delivery-stream';
import { PROJECT_ROOT, createEsmFunction } from './private/esm-function';

/** Properties of {@link FeedbackApi}. */
export interface FeedbackApiProps {
  /** The stream feeding the `feedback` table; the function may put records on it and nothing else. */
  readonly stream: IcebergDeliveryStream;
  /** Stage name, used in descriptions. */
  readonly stage: string;
  /** CloudWatch namespace of the function's EMF metrics (POWERTOOLS_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  /**
   * A stage with `lake.hashAgentIds`: its pseudonymisation key. The function may read it and stores the
   * path's agent id as its keyed pseudonym, as the gate stores it in the trace rows feedback joins.
   *
   * @default - agent ids stored as the path names them; the function reads no secret
   */
  readonly agentPseudonymisationKey?: secretsmanager.ISecret;

  /**
   * Powertools service name (POWERTOOLS_SERVICE_NAME).
   *
   * @default 'feedback-api'
   */
  readonly serviceName?: string;

  /**
   * The handler module (exports `handler`).
   *
   * @default lambdas/feedback/handler.ts
   */
  readonly entry?: string;

  /**
   * Steady-state requests per second the stage accepts before answering 429.
   *
   * @default 50
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst of requests the stage accepts above the rate limit.
   *
   * @default 100
   */
  readonly throttlingBurstLimit?: number;

  /**
   * Retention of the access log and function log groups.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log groups when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Path parameter the request validator requires (API Gateway's name for `{agent-id}`). */
export const AGENT_ID_PARAMETER = 'method.request.path.agent-id';

/**
 * A regional REST API with IAM authorization (callers are agent adapters holding AWS credentials),
 * access logs, execution logs at ERROR level without request bodies, X-Ray, stage throttling and a
 * request parameter validator, in front of a Lambda that validates the body (answering 400 with the
 * wrong field, 413 above its size limit) and puts one record on the stream.
 */
export class FeedbackApi extends Construct {
  /** The REST API. */
  public readonly api: apigw.RestApi;
  /** The `/agents/{agent-id}/feedback` resource. */
  public readonly feedbackResource: apigw.Resource;
  /** The `POST /agents/{agent-id}/feedback` method. */
  public readonly method: apigw.Method;
  /** Validator requiring the `agent-id` path parameter; the body is the function's to validate. */
  public readonly requestValidator: apigw.RequestValidator;
  /** JSON access log of the stage. */
  public readonly accessLogGroup: logs.LogGroup;
  /** The function behind the method. */
  public readonly function: nodejs.NodejsFunction;
  /** The function's execution role. */
  public readonly role: iam.Role;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FeedbackApiProps) {
    super(scope, id);
    const rateLimit = props.throttlingRateLimit ?? 50;
    const burstLimit = props.throttlingBurstLimit ?? 100;
    if (!(rateLimit > 0) || !Number.isInteger(burstLimit) || burstLimit < 1) {
      throw new Error(`FeedbackApi: throttling is ${rateLimit} rps with a burst of ${burstLimit}; expected a positive rate and a positive whole burst`);
    }
    if (burstLimit < rateLimit) {
      throw new Error(`FeedbackApi: throttlingBurstLimit ${burstLimit} is below throttlingRateLimit ${rateLimit}; a burst must be at least one second of the rate`);
    }
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;

    const parts = createEsmFunction(this, {
      entry: props.entry ?? path.join(PROJECT_ROOT, 'lambdas', 'feedback', 'handler.ts'),
      description: `Validates agent feedback and puts it on the ${props.stage} feedback stream`,
      // Validation and one PutRecord: light work, well under API Gateway's 29 s integration limit.
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: {
        FEEDBACK_STREAM_NAME: props.stream.deliveryStreamName,
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'feedback-api',
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        ...(props.agentPseudonymisationKey === undefined ? {} : { [FEEDBACK_ENV.pseudonymisationKeySecretArn]: props.agentPseudonymisationKey.secretArn }),
      },
      logRetention,
      logRemovalPolicy,
    });
    this.function = parts.fn;
    this.role = parts.role;
    this.logGroup = parts.logGroup;
    props.stream.grantPutRecord(this.role);
    props.agentPseudonymisationKey?.grantRead(this.role);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Only the X-Ray actions added for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) are on *: X-Ray supports no resource-level permissions.',
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });

    this.api = new apigw.RestApi(this, 'Api', {
      description: `Agent feedback for the ${props.stage} trace lake (IAM authorization)`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Execution and access logging need the account-level CloudWatch role; this stack owns it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Request bodies may quote user content: never copy them into execution logs.
        dataTraceEnabled: false,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
      },
    });

    // Parameters only. The body is validated by the function alone: its 400 names the wrong field
    // (`{"error":"invalid_body","field":"outcome",...}`), which API Gateway's model validation cannot
    // promise (its message names no property for enum, type, range or pattern violations).
    this.requestValidator = new apigw.RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestParameters: true,
      validateRequestBody: false,
    });

    this.feedbackResource = this.api.root.addResource('agents').addResource('{agent-id}').addResource('feedback');
    this.method = this.feedbackResource.addMethod('POST', new apigw.LambdaIntegration(this.function), {
      authorizationType: apigw.AuthorizationType.IAM,
      requestParameters: { [AGENT_ID_PARAMETER]: true },
      requestValidator: this.requestValidator,
    });

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'Callers are agent adapters (services) holding AWS credentials, not end users: every method uses IAM (SigV4) authorization, which a Cognito user pool would only weaken.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason: `The validator checks the agent-id parameter but not the body: the function validates the body strictly (zod, unknown fields refused, ${MAX_FEEDBACK_BODY_BYTES} bytes at most) and its 400 names the wrong field, which API Gateway model validation does not reliably do. Only SigV4-signed, throttled requests reach it.`,
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'The API accepts only SigV4-signed requests from IAM principals and is throttled per stage; unauthenticated traffic is rejected before integration. A WAF web ACL is attached centrally by the platform (Firewall Manager) where policy requires one.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The API Gateway account-level CloudWatch role must carry this AWS managed policy for execution and access logging to work.',
    });
  }
}
