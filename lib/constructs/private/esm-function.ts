/**
 * The Lambda conventions every function of this app shares, in one place: local esbuild bundling to a
 * minified ESM `.mjs` (settings in lambda-bundle.ts; AWS SDK external, the runtime provides it),
 * Node.js 22 on arm64, active X-Ray tracing, its own log group with retention, and its own role
 * without managed policies.
 */
import * as path from 'node:path';
import { Validations, type Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_SETTINGS, checkHandlerEntry, PROJECT_ROOT } from './lambda-bundle';

export { ESM_REQUIRE_BANNER, PROJECT_ROOT } from './lambda-bundle';

/** Lambda's limit on the total size of a function's environment variables (keys and values). */
export const LAMBDA_ENV_LIMIT_BYTES = 4096;

/** The pinned runtime (Node.js 22 LTS, the version the handlers and their tests target). */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** Options of {@link createEsmFunction}. */
export interface EsmFunctionOptions {
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly reservedConcurrentExecutions?: number;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * Folders copied into the bundle after esbuild ran (files the code reads at run time, e.g. SQL).
   *
   * @default - the bundle holds index.mjs only
   */
  readonly copyIntoBundle?: readonly BundleCopy[];
}

/** A folder of the repository copied into a function's bundle. */
export interface BundleCopy {
  /** Folder relative to the repository root, e.g. `lambdas/pipeline/dataset/sql`. */
  readonly from: string;
  /** Folder relative to the bundle root (`/var/task` at run time), e.g. `sql`. */
  readonly to: string;
}

const RELATIVE_FOLDER = /^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/;

/** The afterBundling commands that copy `copies` into the output directory (run by bash on the build machine). */
export function bundleCopyCommands(copies: readonly BundleCopy[], inputDir: string, outputDir: string): string[] {
  return copies.flatMap((copy) => {
    for (const folder of [copy.from, copy.to]) {
      if (!RELATIVE_FOLDER.test(folder)) throw new Error(`copyIntoBundle: "${folder}" is not a plain relative folder (letters, digits, . _ - /, no "..")`);
    }
    const target = path.posix.join(outputDir, copy.to);
    return [`mkdir -p "${target}"`, `cp -R "${path.posix.join(inputDir, copy.from)}/." "${target}/"`];
  });
}

/** What {@link createEsmFunction} creates. */
export interface EsmFunctionParts {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/** Throws when the environment would exceed Lambda's 4 KB limit, naming the size received. */
export function checkEnvironmentSize(owner: string, environment: Readonly<Record<string, string>>): void {
  const bytes = Object.entries(environment).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > LAMBDA_ENV_LIMIT_BYTES) {
    throw new Error(`${owner}: environment variables take ${bytes} bytes; Lambda allows at most ${LAMBDA_ENV_LIMIT_BYTES}`);
  }
}

/** Creates a function with the shared conventions. */
export function createEsmFunction(scope: Construct, options: EsmFunctionOptions): EsmFunctionParts {
  checkEnvironmentSize(scope.node.path, options.environment);
  checkHandlerEntry(options.entry);
  // Fails at construction, not only when bundling runs (tests synthesize with bundling off).
  bundleCopyCommands(options.copyIntoBundle ?? [], '/input', '/output');

  const logGroup = new logs.LogGroup(scope, 'LogGroup', {
    retention: options.logRetention,
    removalPolicy: options.logRemovalPolicy,
  });

  // An explicit role keeps AWSLambdaBasicExecutionRole (logs:* on every log group) off the function.
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: options.description,
  });
  logGroup.grantWrite(role);

  const fn = new nodejs.NodejsFunction(scope, 'Function', {
    entry: options.entry,
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    runtime: FUNCTION_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    description: options.description,
    memorySize: options.memorySize,
    timeout: options.timeout,
    reservedConcurrentExecutions: options.reservedConcurrentExecutions,
    tracing: lambda.Tracing.ACTIVE,
    role,
    logGroup,
    environment: { ...options.environment },
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: BUNDLE_SETTINGS.target,
      mainFields: [...BUNDLE_SETTINGS.mainFields],
      minify: BUNDLE_SETTINGS.minify,
      keepNames: BUNDLE_SETTINGS.keepNames,
      sourceMap: false,
      externalModules: [...BUNDLE_SETTINGS.external],
      banner: BUNDLE_SETTINGS.banner,
      // esbuild is a local devDependency: bundle here, never in Docker (absent on build machines).
      forceDockerBundling: false,
      ...(options.copyIntoBundle === undefined || options.copyIntoBundle.length === 0
        ? {}
        : {
            commandHooks: {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: (inputDir: string, outputDir: string) => bundleCopyCommands(options.copyIntoBundle ?? [], inputDir, outputDir),
            },
          }),
    },
  });

  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'Node.js 22 is pinned deliberately: the handlers, their tests and the local runner target it; runtime upgrades are a reviewed change, not a drift.',
  });
  return { fn, role, logGroup };
}

/** One step's function: what differs between the functions of a construct. */
export type StepFunctionSpec = Pick<EsmFunctionOptions, 'entry' | 'description' | 'memorySize' | 'timeout' | 'environment' | 'copyIntoBundle'>;

/** The X-Ray actions active tracing adds: the only `*` resources a step's role holds. */
const XRAY_ONLY_REASON = 'Only the X-Ray actions added for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) are on *: X-Ray supports no resource-level permissions.';

/**
 * One function per step, each in its own scope named after the step (createEsmFunction names its parts
 * Function, Role, LogGroup), its role acknowledged for the X-Ray actions only. Grants are the caller's.
 */
export function createStepFunctions<Step extends string>(
  scope: Construct,
  specs: Readonly<Record<Step, StepFunctionSpec>>,
  logging: { readonly logRetention: logs.RetentionDays; readonly logRemovalPolicy: RemovalPolicy },
): { functions: Record<Step, nodejs.NodejsFunction>; roles: Record<Step, iam.Role> } {
  const functions = {} as Record<Step, nodejs.NodejsFunction>;
  const roles = {} as Record<Step, iam.Role>;
  for (const step of Object.keys(specs) as Step[]) {
    const parts = createEsmFunction(new Construct(scope, `${step.charAt(0).toUpperCase()}${step.slice(1)}`), { ...specs[step], ...logging });
    functions[step] = parts.fn;
    roles[step] = parts.role;
    Validations.of(parts.role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: XRAY_ONLY_REASON });
  }
  return { functions, roles };
}
