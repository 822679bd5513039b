/**
 * Builds the app the way `cdk synth -c stage=NAME` does (cdk.json's feature flags, the stage file, the
 * reward policy file), without spawning the CLI. A stage's templates (both stacks from one synthesis) are
 * synthesized once per jest run and shared by every file through test/helpers/shared-synthesis.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig } from '../../config';
import type { StageConfig } from '../../config/schema';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { parseRewardPolicy } from '../../config/reward-policies/read';
import { buildApp, type BuiltApp } from '../../lib/app';
import { sharedStageTemplates } from './shared-synthesis';
import { RETENTION_SIDS } from '../../lib/constructs/retention-guard';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const STAGE_NAMES = ['dev', 'prod-eu', 'prod-kr'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Context from cdk.json, so tests run with the feature flags `cdk synth` uses. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return { ...(cdkJson.context ?? {}) };
}

/** The reward policy a stage names, read and validated the way bin/app.ts does. */
export function rewardPolicyFor(config: StageConfig): RewardPolicy {
  const source = `config/reward-policies/${config.rewardPolicyVersion}.json`;
  const raw: unknown = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, source), 'utf8'));
  return parseRewardPolicy(raw, source, config.rewardPolicyVersion);
}

/** How a test app is synthesized. */
export interface TestAppOptions {
  /**
   * Real esbuild bundling and CloudFormation's built-in template validation in strict mode (warnings
   * fail), exactly as `cdk synth`. Off by default: bundling and the validator cost seconds per stage.
   */
  readonly strict?: boolean;
  /** Register the cdk-nag plugin (it then fails synthesis on any unacknowledged finding). */
  readonly nag?: boolean;
  /** Replace the stage configuration before building (for negative tests). */
  readonly config?: StageConfig;
  /** Replace the reward policy the stage names. */
  readonly rewardPolicy?: RewardPolicy;
  /**
   * Cloud assembly folder. Apps synthesized into the same folder share their bundles: CDK's asset cache
   * is keyed by the output folder, the entry and the bundling options, so an identical function bundles
   * once instead of once per stage.
   *
   * @default - a new temporary folder per app
   */
  readonly outdir?: string;
}

/** Builds (but does not synthesize) the app for a stage. */
export function buildTestApp(stage: StageName, options: TestAppOptions = {}): BuiltApp {
  const context: Record<string, unknown> = { ...cdkJsonContext(), stage };
  if (options.strict === true) {
    context['@aws-cdk/core:strictCfnValidateErrors'] = true;
  } else {
    context['@aws-cdk/core:strictCfnValidateErrors'] = false;
    // No stack needs bundling: NodejsFunction stages a placeholder instead of running esbuild.
    context['aws:cdk:bundling-stacks'] = [];
  }
  const app = new App({ context, builtinCloudFormationValidation: options.strict === true, ...(options.outdir === undefined ? {} : { outdir: options.outdir }) });
  const config = options.config ?? loadStageConfig(stage);
  return buildApp({ app, config, rewardPolicy: options.rewardPolicy ?? rewardPolicyFor(config), nag: options.nag ?? false });
}

/** A built and synthesized stage, shared by every test of a file. */
export interface SynthesizedStage extends BuiltApp {
  /** The data stack's template. */
  readonly template: Template;
  /** The loop stack's template (same synthesis). */
  readonly loopTemplate: Template;
}

const synthesized = new Map<StageName, SynthesizedStage>();

/**
 * The app of a stage (bundling and validators off), once per test file. The templates come from this jest
 * run's shared synthesis (`sharedStageTemplates`), so a file that only reads templates never builds the
 * app; `app`, `dataStack` and `loopStack` are built on first use (the same code, the same construct tree
 * and logical ids) for a test that needs the objects themselves.
 */
export function synthesizedStage(stage: StageName): SynthesizedStage {
  const cached = synthesized.get(stage);
  if (cached !== undefined) return cached;
  let built: BuiltApp | undefined;
  const shared = sharedStageTemplates(stage, () => {
    // What Template.fromStack reads (its cyclic-dependency check runs in Template.fromJSON below).
    built = buildTestApp(stage);
    const assembly = built.app.synth();
    return { data: assembly.getStackArtifact(built.dataStack.artifactId).template, loop: assembly.getStackArtifact(built.loopStack.artifactId).template };
  });
  const objects = (): BuiltApp => (built ??= buildTestApp(stage));
  const result: SynthesizedStage = {
    template: Template.fromJSON(shared.data),
    loopTemplate: Template.fromJSON(shared.loop),
    get app() {
      return objects().app;
    },
    get dataStack() {
      return objects().dataStack;
    },
    get loopStack() {
      return objects().loopStack;
    },
  };
  synthesized.set(stage, result);
  return result;
}

/** The data stack template of a stage. */
export function dataTemplate(stage: StageName): Template {
  return synthesizedStage(stage).template;
}

/** The loop stack template of a stage. */
export function loopTemplate(stage: StageName): Template {
  return synthesizedStage(stage).loopTemplate;
}

/** Resources of one type as [logicalId, resource] pairs. */
export function resourcesOfType(template: Template, type: string): Array<[string, { Properties?: Record<string, unknown>; [k: string]: unknown }]> {
  return Object.entries(template.findResources(type)) as Array<[string, { Properties?: Record<string, unknown> }]>;
}

/** An IAM policy statement as synthesized. */
export interface SynthesizedStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Sids of the retention Deny statements every role carries; test/constructs/retention-guard.test.ts checks them, once for all roles. */
const RETENTION_DENY_SIDS: ReadonlySet<string> = new Set([RETENTION_SIDS.roleDenyRegistry, RETENTION_SIDS.roleDenyArtifacts]);

/**
 * Every statement of every AWS::IAM::Policy attached to the role `roleLogicalId` (default and standalone
 * policies), without the retention Denies every role carries: what the role itself was granted.
 */
export function statementsOfRole(template: Template, roleLogicalId: string): SynthesizedStatement[] {
  return resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, p]) => ((p.Properties?.Roles as unknown[] | undefined) ?? []).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId })))
    .flatMap(([, p]) => withoutRetentionDenies((p.Properties!.PolicyDocument as { Statement: SynthesizedStatement[] }).Statement));
}

/** `statements` without the retention Denies every role carries (checked in retention-guard.test.ts). */
export function withoutRetentionDenies<S extends object>(statements: readonly S[]): S[] {
  return statements.filter((s) => {
    const sid = (s as { Sid?: unknown }).Sid;
    return typeof sid !== 'string' || !RETENTION_DENY_SIDS.has(sid);
  });
}

/** The actions of a statement as a list. */
export function actionsOf(statement: SynthesizedStatement): string[] {
  return ([] as string[]).concat(statement.Action);
}

/** The resources of a statement as a list. */
export function resourcesOf(statement: SynthesizedStatement): unknown[] {
  return ([] as unknown[]).concat(statement.Resource);
}

/**
 * A bare app for single-construct tests: no cdk.json flags and no built-in template validator (that
 * one runs, strict, in test/constructs/strict-synth.test.ts).
 */
export function bareApp(): App {
  return new App({ builtinCloudFormationValidation: false });
}
