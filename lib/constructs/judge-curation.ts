/**
 * The judge's curation of one stage: three functions (select, judge, publish), the state machine that
 * loops the judge over the window's candidates (stepfunctions/judge-curation.ts), and its schedule.
 * Built only for a stage that configures a judge.
 *
 * Least privilege: `select` and `publish` query the lake through the stage's Athena workgroup (read of
 * `traces` and `judgments` only); `select` has Athena write the candidate files under `curation/`;
 * `judge` reads those files, calls the judge endpoint (one SageMaker endpoint, one Bedrock model, or
 * one API-key secret) and puts records on the judgment stream, nothing else.
 */
import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SQL_DIR_ENV } from '../../lambdas/pipeline/dataset/sql-files';
import { CURATION_ENV, type CurationSettings } from '../../lambdas/judge/curation/settings';
import { buildJudgeCurationDefinition, type JudgeCurationFunctions } from '../../stepfunctions/judge-curation';
import type { ArtifactStore } from './artifact-store';
import type { IcebergDeliveryStream } from './iceberg-delivery-stream';
import { createStepFunctions, PROJECT_ROOT, type StepFunctionSpec } from './private/esm-function';
import { acknowledgeWildcardResourceToken } from './private/acknowledge';
import { createLambdaStateMachine } from './private/state-machine';
import { scheduleStateMachine } from './private/state-machine-schedule';
import { BOUNDARY_REGIONS } from '../../config/boundaries';
import type { TraceLake } from './trace-lake';
import { DATASET_SQL_COPY, DATASET_SQL_DIR } from './training-pipeline';

/** Handler entry of each curation function, relative to the repository root. */
export const CURATION_HANDLER_ENTRIES: Readonly<Record<keyof JudgeCurationFunctions, string>> = {
  selectCandidates: 'lambdas/judge/curation/select-handler.ts',
  judgeNextLines: 'lambdas/judge/curation/judge-handler.ts',
  publishJudgedMetrics: 'lambdas/judge/curation/publish-handler.ts',
};

/** Seconds added to the judgment stream's buffer before the metrics are read: Firehose's commit takes a while. */
const DELIVERY_MARGIN_SECONDS = 120;

export interface JudgeCurationProps {
  readonly stage: string;
  /** The validated CURATION_SETTINGS (stage judge, the policy's judge section, lake tables). */
  readonly settings: CurationSettings;
  readonly lake: TraceLake;
  readonly artifacts: ArtifactStore;
  /** The stage's Athena workgroup (the dataset build's: encrypted results under athena-results/). */
  readonly workGroupName: string;
  /** The judgment stream (data stack) and its buffer interval. */
  readonly judgmentStream: IcebergDeliveryStream;
  readonly deliveryBufferSeconds: number;
  /** Schedule time zone and whether schedules are enabled (`config.schedules`). */
  readonly timezone: string;
  readonly schedulesEnabled: boolean;
  readonly logRetention?: logs.RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class JudgeCuration extends Construct {
  public readonly functions: Readonly<Record<keyof JudgeCurationFunctions, nodejs.NodejsFunction>>;
  public readonly roles: Readonly<Record<keyof JudgeCurationFunctions, iam.Role>>;
  public readonly stateMachine: sfn.StateMachine;
  public readonly schedule: scheduler.Schedule;
  private readonly boundary: CurationSettings['boundary'];

  constructor(scope: Construct, id: string, props: JudgeCurationProps) {
    super(scope, id);
    const { settings, lake, artifacts } = props;
    if (settings.stage !== props.stage) throw new Error(`JudgeCuration: settings are for stage "${settings.stage}" but the stage is "${props.stage}"`);
    this.boundary = settings.boundary;
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    const common = { [CURATION_ENV.settings]: JSON.stringify(settings), POWERTOOLS_METRICS_NAMESPACE: settings.metricsNamespace };
    const athena = { [CURATION_ENV.athenaWorkGroup]: props.workGroupName, [SQL_DIR_ENV]: DATASET_SQL_DIR };
    const entry = (step: keyof JudgeCurationFunctions): string => path.join(PROJECT_ROOT, CURATION_HANDLER_ENTRIES[step]);
    const specs: Record<keyof JudgeCurationFunctions, StepFunctionSpec> = {
      selectCandidates: {
        entry: entry('selectCandidates'),
        description: `${props.stage}: Select candidates: Athena writes the window's unjudged kept traces as files under curation/`,
        memorySize: 256,
        timeout: Duration.minutes(12),
        environment: { ...common, ...athena, [CURATION_ENV.workPrefix]: artifacts.uriOf(artifacts.curationPrefix), POWERTOOLS_SERVICE_NAME: 'judge-select-candidates' },
        copyIntoBundle: [DATASET_SQL_COPY],
      },
      judgeNextLines: {
        entry: entry('judgeNextLines'),
        description: `${props.stage}: Judge next lines: judges a slice of the candidates within the daily ceilings; judgments to the judgment stream`,
        memorySize: 512,
        timeout: Duration.minutes(15),
        environment: { ...common, [CURATION_ENV.judgmentStream]: props.judgmentStream.deliveryStreamName, POWERTOOLS_SERVICE_NAME: 'judge-next-lines' },
      },
      publishJudgedMetrics: {
        entry: entry('publishJudgedMetrics'),
        description: `${props.stage}: Publish judged metrics: judged faithfulness and misroute per model and variant (EMF)`,
        memorySize: 256,
        timeout: Duration.minutes(6),
        environment: { ...common, ...athena, POWERTOOLS_SERVICE_NAME: 'judge-publish-metrics' },
        copyIntoBundle: [DATASET_SQL_COPY],
      },
    };
    const { functions, roles } = createStepFunctions(this, specs, { logRetention, logRemovalPolicy });
    this.functions = functions;
    this.roles = roles;

    // Queries: the workgroup, the two tables they read, and the workgroup's result location.
    const workGroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroupName });
    for (const role of [roles.selectCandidates, roles.publishJudgedMetrics]) {
      iam.Grant.addToPrincipal({
        grantee: role,
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
        resourceArns: [workGroupArn],
      });
      lake.grantTableRead(role, [settings.lake.tracesTable, settings.lake.judgmentsTable]);
      artifacts.grantRead(role, artifacts.queryResultsPrefix);
      artifacts.grantWrite(role, artifacts.queryResultsPrefix);
    }
    // UNLOAD writes the candidate files with the caller's permissions; the judge reads them back.
    artifacts.grantWrite(roles.selectCandidates, artifacts.curationPrefix);
    artifacts.grantRead(roles.judgeNextLines, artifacts.curationPrefix);
    props.judgmentStream.grantPutRecords(roles.judgeNextLines);
    this.grantJudgeEndpoint(roles.judgeNextLines, settings.judge.endpoint);

    const definition = buildJudgeCurationDefinition(this, { functions, deliveryWait: Duration.seconds(props.deliveryBufferSeconds + DELIVERY_MARGIN_SECONDS) });
    this.stateMachine = createLambdaStateMachine(this, {
      comment: `Self-Improving Agent Loop ${props.stage}: the judge's curation (select, judge within ceilings, publish judged metrics)`,
      definition,
      functions,
      logRetention,
      logRemovalPolicy,
    });

    this.schedule = scheduleStateMachine(this, {
      stateMachine: this.stateMachine,
      roleDescription: `EventBridge Scheduler: starts ${props.stage} judge curation executions`,
      description: `${props.stage}: the judge's curation of the last ${settings.judge.curation.windowHours} h of kept traces`,
      expression: settings.judge.curation.schedule,
      timezone: props.timezone,
      enabled: props.schedulesEnabled,
    });
  }

  /** Invoke on exactly the configured endpoint: one SageMaker endpoint, one Bedrock model (or profile), or one secret. */
  private grantJudgeEndpoint(role: iam.Role, endpoint: CurationSettings['judge']['endpoint']): void {
    const stack = Stack.of(this);
    switch (endpoint.kind) {
      case 'sagemaker':
        iam.Grant.addToPrincipal({ grantee: role, actions: ['sagemaker:InvokeEndpoint'], resourceArns: [stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: endpoint.endpointName.toLowerCase() })] });
        return;
      case 'bedrock': {
        // A cross-region inference profile is invoked through the profile, and the model in each region the
        // profile may route to: the regions of the stage's boundary (config validation keeps the profile's
        // geography inside it).
        const profile = /^(us|eu)\./.exec(endpoint.modelId);
        const model = (region: string, id: string): string => stack.formatArn({ service: 'bedrock', resource: 'foundation-model', resourceName: id, region, account: '' });
        const resources =
          profile === null
            ? [model(stack.region, endpoint.modelId)]
            : [
                stack.formatArn({ service: 'bedrock', resource: 'inference-profile', resourceName: endpoint.modelId }),
                ...BOUNDARY_REGIONS[this.boundary].map((region) => model(region, endpoint.modelId.slice(profile[0].length))),
              ];
        iam.Grant.addToPrincipal({ grantee: role, actions: ['bedrock:InvokeModel'], resourceArns: resources });
        return;
      }
      case 'openai-compatible':
        if (endpoint.apiKeySecretName !== undefined) {
          // Secrets Manager appends six random characters to a secret's name in its ARN.
          const secret = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${endpoint.apiKeySecretName}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
          iam.Grant.addToPrincipal({ grantee: role, actions: ['secretsmanager:GetSecretValue'], resourceArns: [secret] });
          acknowledgeWildcardResourceToken(role, secret, `GetSecretValue on the judge API key secret ${endpoint.apiKeySecretName} only: the -?????? is the random suffix Secrets Manager adds to every secret ARN.`);
        }
        return;
    }
  }
}
