/**
 * Human approvals: the signing secret of approval links, the three notification topics (approvers,
 * FinOps, everyone following the pipeline), and the approval page API that turns a click into
 * SendTaskSuccess / SendTaskFailure. The approvals table itself is stateful and comes from the data
 * stack.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { approvalRecipients, approverEmailLists, type AddressesByKind } from '../../lambdas/pipeline/approvals/approval-recipients';
import type { ApproverLists } from '../../lambdas/pipeline/approvals/approver-duties';
import { RECIPIENT_ATTRIBUTE } from '../../lambdas/pipeline/aws/sns-notifier';
import { PIPELINE_ENV } from '../../lambdas/pipeline/settings';
import { PROJECT_ROOT, createEsmFunction } from './private/esm-function';

/** Properties of {@link Approvals}. */
export interface ApprovalsProps {
  /** Stage name, used in descriptions and topic display names. */
  readonly stage: string;
  /** The approvals table (data stack), encrypted with a customer managed key. */
  readonly table: dynamodb.ITable;
  /** Who receives training approval e-mails. */
  readonly approverEmails: readonly string[];
  /** Who receives FinOps (budget ceiling) approval e-mails and the budget alarm. */
  readonly finopsEmails: readonly string[];
  /** Who receives pipeline notifications (not eligible, rejected, expired, failed, registered). */
  readonly notificationEmails: readonly string[];

  /**
   * Who may decide each kind of approval (the stage's `approvals.approvers`): their e-mail addresses
   * get personal links and are subscribed to the kind's topic; the page refuses any other address.
   *
   * @default none named: every topic address gets a personal link, anyone but the requester decides
   */
  readonly approvers?: ApproverLists;
  /** CloudWatch namespace of the page function's EMF metrics. */
  readonly metricsNamespace: string;

  /**
   * The approval page handler (exports `handler`).
   *
   * @default lambdas/pipeline/approvals/api-handler.ts
   */
  readonly entry?: string;

  /**
   * Steady-state requests per second the page accepts (humans click; scanners and guessers do not need more).
   *
   * @default 5
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst above the rate limit.
   *
   * @default 10
   */
  readonly throttlingBurstLimit?: number;

  /**
   * Retention of the access log and function log groups.
   *
   * @default logs.RetentionDays.ONE_YEAR (decisions are audit evidence)
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log groups when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Path parameter the validator requires (API Gateway's name for `{id}`). */
export const APPROVAL_ID_PARAMETER = 'method.request.path.id';

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The signing secret (64 generated characters, KMS), three KMS-encrypted TLS-only topics with e-mail
 * subscriptions, and `GET|POST /approvals/{id}` on a regional REST API. The API is not IAM-authorized
 * on purpose: the e-mailed link is the bearer credential and the function verifies its HMAC
 * signature, expiry and single use before anything else.
 */
export class Approvals extends Construct {
  /** Encrypts the topics and the signing secret. */
  public readonly key: kms.Key;
  /** HMAC key of approval links (the Lambdas read AWSCURRENT to sign and AWSPREVIOUS too to verify). */
  public readonly signingSecret: secretsmanager.Secret;
  /** Training approval e-mails. */
  public readonly approvalsTopic: sns.Topic;
  /** FinOps approval e-mails and the GPU budget alarm. */
  public readonly finopsTopic: sns.Topic;
  /** Pipeline notifications. */
  public readonly notificationsTopic: sns.Topic;
  /** The approvals table. */
  public readonly table: dynamodb.ITable;
  /** The approval page API. */
  public readonly api: apigw.RestApi;
  /** `/approvals/{id}`. */
  public readonly approvalResource: apigw.Resource;
  /** Requires the `{id}` path parameter. */
  public readonly requestValidator: apigw.RequestValidator;
  /** JSON access log of the stage. */
  public readonly accessLogGroup: logs.LogGroup;
  /** The page function. */
  public readonly function: nodejs.NodejsFunction;
  /** The page function's role. */
  public readonly role: iam.Role;
  /** The page function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** Who gets a personal link per approval kind (APPROVAL_RECIPIENTS of the request function). */
  public readonly recipients: AddressesByKind;
  /** Base URL approval links start with (`<base>/approvals/<id>?exp=..&sig=..`); APPROVAL_PAGE_BASE_URL. */
  public readonly pageBaseUrl: string;
  /** The page's SendTask* policy, once a state machine waits for approvals (one statement, every state machine). */
  private taskDecisions?: { readonly policy: iam.Policy; readonly statement: iam.PolicyStatement };

  constructor(scope: Construct, id: string, props: ApprovalsProps) {
    super(scope, id);
    const rateLimit = props.throttlingRateLimit ?? 5;
    const burstLimit = props.throttlingBurstLimit ?? 10;
    if (!(rateLimit > 0) || !Number.isInteger(burstLimit) || burstLimit < rateLimit) {
      throw new Error(`Approvals: throttling is ${rateLimit} rps with a burst of ${burstLimit}; expected a positive rate and a whole burst of at least the rate`);
    }
    for (const [field, emails] of [
      ['approverEmails', props.approverEmails],
      ['finopsEmails', props.finopsEmails],
      ['notificationEmails', props.notificationEmails],
    ] as const) {
      const bad = emails.filter((e) => !EMAIL.test(e));
      if (bad.length > 0) throw new Error(`Approvals: ${field} contains ${bad.map((e) => JSON.stringify(e)).join(', ')}; expected e-mail addresses`);
    }
    if (props.table.encryptionKey === undefined) {
      throw new Error('Approvals: the approvals table has no customer managed key; expected one (records hold task tokens)');
    }
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    this.table = props.table;

    this.key = new kms.Key(this, 'Key', {
      description: `Approvals of ${props.stage}: notification topics and the link signing secret`,
      enableKeyRotation: true,
      // Nothing durable is encrypted with it (topics hold messages in flight; the secret goes with the stack).
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch alarms (the GPU budget alarm) publish to an encrypted topic with this key; only on
    // behalf of this account's alarms (confused deputy), like the topic policies below.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.signingSecret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: `HMAC key of ${props.stage} approval links (64 characters; AWSPREVIOUS still verifies after a rotation)`,
      encryptionKey: this.key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.signingSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotation is an operator action (put a new value; the functions verify AWSPREVIOUS too, so links already e-mailed keep working until they expire). An automatic schedule would add a rotation Lambda for a key that never leaves Secrets Manager and signs links valid for days.',
    });

    const addresses = { approverEmails: props.approverEmails, finopsEmails: props.finopsEmails, ...(props.approvers !== undefined ? { approvers: props.approvers } : {}) };
    this.recipients = approvalRecipients(addresses);
    const approverEmails = approverEmailLists(addresses);
    const topic = (topicId: string, displayName: string, emails: readonly string[], personal: boolean): sns.Topic => {
      const t = new sns.Topic(this, topicId, { displayName, masterKey: this.key, enforceSSL: true });
      for (const email of new Set(emails.map((e) => e.trim().toLowerCase()))) {
        // A personal approval link carries its address in the `recipient` attribute and reaches that
        // address only; a message without the attribute (the budget alarm) still reaches everyone.
        const filterPolicy = personal ? { [RECIPIENT_ATTRIBUTE]: new sns.SubscriptionFilter([email, { exists: false }]) } : undefined;
        t.addSubscription(new subscriptions.EmailSubscription(email, filterPolicy !== undefined ? { filterPolicy } : {}));
      }
      return t;
    };
    // Each topic is subscribed by everyone who gets its kinds' personal links.
    this.approvalsTopic = topic('ApprovalsTopic', `sial ${props.stage} approvals`, [...props.approverEmails, ...this.recipients.train, ...this.recipients['deploy-stage']], true);
    this.finopsTopic = topic('FinopsTopic', `sial ${props.stage} FinOps`, [...props.finopsEmails, ...this.recipients.finops], true);
    this.notificationsTopic = topic('NotificationsTopic', `sial ${props.stage} pipeline`, props.notificationEmails, false);
    for (const t of [this.finopsTopic, this.notificationsTopic]) {
      // The TLS-only topic policy replaces SNS's default one, so alarms of this account are allowed explicitly.
      t.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [t.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      );
    }

    const parts = createEsmFunction(this, {
      entry: props.entry ?? path.join(PROJECT_ROOT, 'lambdas', 'pipeline', 'approvals', 'api-handler.ts'),
      description: `Approval page of ${props.stage}: verifies signed links, records decisions, completes the waiting task`,
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: {
        [PIPELINE_ENV.approvalsTable]: props.table.tableName,
        [PIPELINE_ENV.signingSecretArn]: this.signingSecret.secretArn,
        [PIPELINE_ENV.approverEmails]: JSON.stringify(approverEmails),
        POWERTOOLS_SERVICE_NAME: 'approval-page',
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
      },
      logRetention,
      logRemovalPolicy,
    });
    this.function = parts.fn;
    this.role = parts.role;
    this.logGroup = parts.logGroup;
    this.grantRecordAccess(this.role, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    this.signingSecret.grantRead(this.role);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Only the X-Ray actions added for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) are on *: X-Ray supports no resource-level permissions.',
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.api = new apigw.RestApi(this, 'Api', {
      description: `Approval page of the ${props.stage} training pipeline (signed links, no IAM)`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // The data stack owns the region's API Gateway CloudWatch role (AWS::ApiGateway::Account).
      cloudWatchRole: false,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Query strings and forms carry link signatures: never copy requests into execution logs.
        dataTraceEnabled: false,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        // No query string or body in the access log: the signature is a bearer credential.
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
      },
    });
    this.pageBaseUrl = this.api.urlForPath('/');

    // Parameters: `{id}` is required. Bodies: the form has no model, so this checks nothing by itself;
    // the function parses and limits the form (web.ts).
    this.requestValidator = new apigw.RequestValidator(this, 'Validator', { restApi: this.api, validateRequestParameters: true, validateRequestBody: true });
    this.approvalResource = this.api.root.addResource('approvals').addResource('{id}');
    const integration = new apigw.LambdaIntegration(this.function);
    for (const method of ['GET', 'POST']) {
      this.approvalResource.addMethod(method, integration, {
        authorizationType: apigw.AuthorizationType.NONE,
        requestParameters: { [APPROVAL_ID_PARAMETER]: true },
        requestValidator: this.requestValidator,
      });
    }

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The approval page is opened from an e-mail by approvers who hold no AWS credentials: the link (HMAC-SHA256 signature over id and expiry, key in Secrets Manager) is the bearer credential, verified by the function before any read, and a decision is a single-use conditional write. GET never changes anything.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Approvers are identified by the signed link e-mailed to the approver list, not by a user pool; adding Cognito would add a second identity system for a handful of people. The approver name and source IP are recorded with each decision.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'The stage is throttled to a few requests per second and an unsigned or forged link is refused by the function before any lookup; a WAF web ACL is attached centrally by the platform (Firewall Manager) where policy requires one.',
    });
  }

  /**
   * Lets `grantee` run the given item actions on the approvals table, with the table key's matching
   * KMS permissions (reads decrypt; writes also encrypt).
   */
  public grantRecordAccess(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    if (actions.length === 0 || actions.some((a) => !/^dynamodb:(GetItem|PutItem|UpdateItem|Query)$/.test(a))) {
      throw new Error(`Approvals.grantRecordAccess: actions are ${JSON.stringify(actions)}; expected some of dynamodb:GetItem, PutItem, UpdateItem, Query`);
    }
    const writes = actions.some((a) => a === 'dynamodb:PutItem' || a === 'dynamodb:UpdateItem');
    const resourceArns = actions.includes('dynamodb:Query') ? [this.table.tableArn, `${this.table.tableArn}/index/*`] : [this.table.tableArn];
    const items = iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns });
    const key = this.table.encryptionKey!;
    return items.combine(writes ? key.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey') : key.grantDecrypt(grantee));
  }

  /**
   * Lets `grantee` publish to one of this construct's topics: sns:Publish on the topic and the two KMS
   * actions SSE needs (named exactly; Topic.grantPublish would grant `kms:GenerateDataKey*`).
   */
  public grantPublish(topic: sns.ITopic, grantee: iam.IGrantable): iam.Grant {
    if (![this.approvalsTopic, this.finopsTopic, this.notificationsTopic].includes(topic as sns.Topic)) {
      throw new Error(`Approvals.grantPublish: ${topic.node.path} is not one of this construct's topics`);
    }
    const publish = iam.Grant.addToPrincipal({ grantee, actions: ['sns:Publish'], resourceArns: [topic.topicArn] });
    return publish.combine(this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey'));
  }

  /**
   * Lets the page function complete tasks of `stateMachine` (SendTaskSuccess / SendTaskFailure). A
   * policy of its own, not the role's default policy: the state machine depends on functions whose
   * environment holds this API's URL, and the function must not wait for the state machine. Every
   * state machine that waits for these approvals (training, canary rollout) is added to the one policy.
   */
  public grantTaskDecisions(stateMachine: sfn.IStateMachine): iam.Policy {
    if (this.taskDecisions === undefined) {
      const statement = new iam.PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: [stateMachine.stateMachineArn] });
      this.taskDecisions = { policy: new iam.Policy(this, 'TaskDecisionsPolicy', { roles: [this.role], statements: [statement] }), statement };
    } else {
      this.taskDecisions.statement.addResources(stateMachine.stateMachineArn);
    }
    return this.taskDecisions.policy;
  }
}
