/**
 * The one synthesis that runs like `cdk synth` in full, for both stacks of every stage: real esbuild
 * bundling, CloudFormation's built-in template validation in strict mode (a warning fails), and the
 * cdk-nag plugin. Every other construct test switches these off for speed.
 *
 * cdk-nag AwsSolutions over every stage, on the same apps: zero unacknowledged findings, and every
 * acknowledgement carries a specific reason (test/nag.test.ts proves the plugin fails synthesis on a
 * finding).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { loadStageConfig } from '../../config';
import { ESM_REQUIRE_BANNER } from '../../lib/constructs/private/esm-function';
import { ROLLOUT_HANDLER_ENTRIES } from '../../lib/constructs/canary-rollout';
import { DATASET_SQL_COPY, PIPELINE_HANDLER_ENTRIES } from '../../lib/constructs/training-pipeline';
import { REPO_ROOT, STAGE_NAMES, buildTestApp, type StageName } from '../helpers/app';

type FunctionResource = { Type: string; Properties: { Code?: { S3Key?: string }; Handler?: string } };

/** The bundle folder of a function in the cloud assembly. */
function bundleDir(assemblyDir: string, fn: FunctionResource): string {
  return path.join(assemblyDir, `asset.${fn.Properties.Code!.S3Key!.replace(/\.zip$/, '')}`);
}

/** Checks a bundle; `sdkClient` is the ESM import of the SDK client it must leave external, if it uses one. */
function checkBundle(id: string, dir: string, sdkClient?: RegExp): void {
  const bundle = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
  expect({ id, banner: bundle.startsWith(ESM_REQUIRE_BANNER) }).toEqual({ id, banner: true });
  // Minified: long lines (thousands of characters on average), not one line per source statement.
  expect({ id, minified: bundle.length / bundle.split('\n').length > 2000 }).toEqual({ id, minified: true });
  // The AWS SDK stays external (the runtime provides it) and is imported, ESM style.
  if (sdkClient !== undefined) expect({ id, sdkImported: sdkClient.test(bundle) }).toEqual({ id, sdkImported: true });
  expect(bundle).not.toMatch(/@aws-sdk\/client-[a-z-]+\/dist-cjs/);
  expect(bundle).toMatch(/export\s*\{[^}]*handler[^}]*\}/);
}

// One assembly folder for every stage, removed afterwards: a function whose entry and bundling options are
// the same in every stage (all of them today) is bundled once, and each stage's template still points at
// its bundle, checked below.
let outdir: string;
/** Each stage's app, synthesized in full (with the cdk-nag plugin) by the first test; the cdk-nag checks read them. */
const synthesized = new Map<StageName, App>();
beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sial-strict-synth-'));
});
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

test('every stage synthesizes under strict CloudFormation validation with real ESM bundles', () => {
  for (const stage of STAGE_NAMES) {
    const { app, dataStack, loopStack } = buildTestApp(stage, { strict: true, nag: true, outdir });
    expect(app.node.tryGetContext('@aws-cdk/core:strictCfnValidateErrors')).toBe(true);
    expect(app.node.tryGetContext('aws:cdk:bundling-stacks')).toBeUndefined();

    // Throws on any validator error or (strict) warning, and on any unacknowledged cdk-nag finding.
    // The previous stage's report is removed first, so the one read below is this synthesis's own.
    fs.rmSync(path.join(outdir, 'validation-report.json'), { force: true });
    const assembly = app.synth();
    synthesized.set(stage, app);
    expect(assembly.directory).toBe(outdir);
    const artifact = assembly.getStackArtifact(dataStack.artifactId);
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);

    const resources = artifact.template.Resources as Record<string, FunctionResource>;
    const functions = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && /^(GateFunction|FeedbackApiFunction)/.test(id));
    expect(functions).toHaveLength(2);
    for (const [id, fn] of functions) {
      const assetDir = bundleDir(assembly.directory, fn);
      expect({ id, files: fs.readdirSync(assetDir) }).toEqual({ id, files: ['index.mjs'] });
      checkBundle(id, assetDir, /from\s*"@aws-sdk\/client-(comprehend|firehose)"/);
    }

    // The loop stack: the nine pipeline functions and the approval page, each its own ESM bundle.
    const loopResources = assembly.getStackArtifact(loopStack.artifactId).template.Resources as Record<string, FunctionResource>;
    const loopFunctions = Object.entries(loopResources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && /^(Pipeline[A-Za-z]+|Approvals)Function[0-9A-F]{8}$/.test(id));
    // The router steps' function exists only in a stage with a router target.
    const routerFunctions = loopStack.routerCompute === undefined ? 0 : 1;
    expect(loopFunctions).toHaveLength(Object.keys(PIPELINE_HANDLER_ENTRIES).length - 1 + routerFunctions + 1);
    for (const [id, fn] of loopFunctions) {
      const assetDir = bundleDir(assembly.directory, fn);
      // Validate request calls no AWS API; every other function imports its SDK clients from the runtime.
      checkBundle(id, assetDir, id.startsWith('PipelineValidateRequestFunction') ? undefined : /from\s*"@aws-sdk\/(client-[a-z-]+|lib-dynamodb)"/);
      const files = fs.readdirSync(assetDir).sort();
      if (id.startsWith('PipelineBuildDatasetFunction')) {
        // The query files travel with the bundle, at sql/ (SIAL_SQL_DIR=/var/task/sql).
        const sqlSource = fs.readdirSync(path.join(REPO_ROOT, DATASET_SQL_COPY.from)).sort();
        expect(files).toEqual(['index.mjs', 'sql']);
        expect(fs.readdirSync(path.join(assetDir, 'sql')).sort()).toEqual(sqlSource);
        expect(sqlSource.length).toBeGreaterThan(0);
      } else {
        expect({ id, files }).toEqual({ id, files: ['index.mjs'] });
      }
    }

    // The canary rollout: one ESM bundle per function (the two verify functions share a handler).
    const rolloutFunctions = Object.entries(loopResources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && /^Rollout[A-Za-z]+Function[0-9A-F]{8}$/.test(id));
    expect(rolloutFunctions).toHaveLength(Object.keys(ROLLOUT_HANDLER_ENTRIES).length);
    for (const [id, fn] of rolloutFunctions) {
      const assetDir = bundleDir(assembly.directory, fn);
      expect({ id, files: fs.readdirSync(assetDir) }).toEqual({ id, files: ['index.mjs'] });
      // Advance step and Plan HTTPRoute patch are pure; the others reach AWS through SDK clients the runtime provides.
      checkBundle(id, assetDir, /^Rollout(AdvanceStep|PlanRoutePatch)Function/.test(id) ? undefined : /from\s*"@aws-sdk\/(client-[a-z-]+|lib-dynamodb)"/);
    }
  }
});

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
  );
}

/**
 * The stage's app as the full synthesis above left it (synthesis runs the aspects that record late
 * acknowledgements, then the registered nag plugin, which throws on any unacknowledged finding); built
 * and synthesized the same way here when that test did not run (`-t` naming only these).
 */
function synthesizedWithNag(stage: StageName): App {
  let app = synthesized.get(stage);
  if (app === undefined) {
    app = buildTestApp(stage, { strict: true, nag: true, outdir }).app;
    app.synth();
    synthesized.set(stage, app);
  }
  return app;
}

describe.each(STAGE_NAMES)('cdk-nag AwsSolutions in %s', (stage) => {
  test('reports no unacknowledged finding (errors and warnings alike)', () => {
    const app = synthesizedWithNag(stage);
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}: ${v.description}`));
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('every acknowledgement names one rule (wildcards one by one) and gives a specific reason', () => {
    const acks = acknowledgements(synthesizedWithNag(stage)).filter((a) => a.id.includes('AwsSolutions-'));
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect({ ...ack, reasonLength: ack.reason.length >= 60 }).toEqual({ ...ack, reasonLength: true });
      // An IAM5 acknowledgement always names the finding it covers, never the whole rule.
      if (ack.id.includes('AwsSolutions-IAM5')) expect(ack.id).toMatch(/AwsSolutions-IAM5\[(Resource|Action)::.+\]$/);
      if (ack.id.includes('AwsSolutions-IAM4')) expect(ack.id).toMatch(/AwsSolutions-IAM4\[Policy::.+\]$/);
    }
    // No rule is waved through for the whole stack or app.
    expect(acks.filter((a) => !a.path.includes('/'))).toEqual([]);
  });

  test('both stacks of the stage are checked: the loop stack carries its own acknowledgements', () => {
    const app = synthesizedWithNag(stage);
    const stacks = app.node.children.filter((c): c is Stack => c instanceof Stack).map((c) => c.stackName);
    expect(stacks.sort()).toEqual([`sial-${stage}-data`, `sial-${stage}-loop`]);
    const loopAcks = acknowledgements(app).filter((a) => a.path.startsWith(`sial-${stage}-loop/`)).map((a) => a.id.replace(/^Annotation::/i, ''));
    // The approval page is deliberately not IAM-authorized; the reason is recorded, not hidden.
    expect(loopAcks).toEqual(expect.arrayContaining(['AwsSolutions-APIG4', 'AwsSolutions-COG4', 'AwsSolutions-SMG4']));
  });

  test('the pseudonymisation key is the only secret of the data stack, and it says why it is not rotated', () => {
    const dataAcks = acknowledgements(synthesizedWithNag(stage)).filter((a) => a.path.startsWith(`sial-${stage}-data/`) && a.id.replace(/^Annotation::/i, '') === 'AwsSolutions-SMG4');
    expect(dataAcks.map((a) => a.path)).toEqual([`sial-${stage}-data/PseudonymisationKey/Secret`]);
    expect(dataAcks[0]?.reason).toMatch(/breaking joins/);
  });

  test('the canary rollout acknowledges its wildcards one by one, on the role that holds each', () => {
    const rolloutAcks = acknowledgements(synthesizedWithNag(stage)).filter((a) => a.path.startsWith(`sial-${stage}-loop/Rollout/`));
    const ids = (role: string): string[] => rolloutAcks.filter((a) => a.path === `sial-${stage}-loop/Rollout/${role}`).map((a) => a.id.replace(/^Annotation::/i, ''));
    // Every function role: X-Ray (and, for Validate, ListModelPackages) only.
    expect(ids('RollBack/Role')).toEqual(['AwsSolutions-IAM5[Resource::*]']);
    // Deploying a variant: the configurations and models a rollout names at run time, the packages it reads.
    const config = loadStageConfig(stage);
    const deploy = ids('DeployCandidate/Role');
    if (config.targetModels.some((m) => m.rollout.kind === 'sagemaker')) {
      expect(deploy).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:aws:sagemaker:[a-z0-9-]+:<AWS::AccountId>:endpoint-config\/\*\]$/)]));
      expect(deploy.filter((id) => /:model\/[a-z0-9.-]+-v\*\]$/.test(id))).toHaveLength(config.targetModels.filter((m) => m.rollout.kind === 'sagemaker').length);
    }
    // The state machines: each invoked function's versions, by name.
    expect(ids('StateMachine/Role').filter((id) => id.endsWith('.Arn>:*]')).length).toBeGreaterThanOrEqual(11);
  });
});
