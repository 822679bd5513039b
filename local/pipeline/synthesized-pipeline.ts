/**
 * The training pipeline exactly as `cdk synth -c stage=NAME` produces it: the app is built in-process
 * with cdk.json's feature flags (bundling and the template validator off: local mode runs the handlers'
 * domain code, not their bundles), and the state machine's ASL is rendered from the loop stack's
 * template. Local mode and the state-machine tests execute this definition, never a hand-written copy.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { readRewardPolicy } from '../../config/reward-policies/read';
import type { StageConfig } from '../../config/schema';
import type { RewardPolicy } from '../../lambdas/gate-score/reward/policy';
import { OPERATING_REPORTS_ENV, parseOperatingReportsConfig, type OperatingReportsConfig } from '../../lambdas/operations/report-settings';
import { buildApp, loopStackName } from '../../lib/app';
import { renderAsl, stateMachineLogicalIds, type AslDefinition } from '../../stepfunctions/render-asl';
import type { SimulatedJobDefinition, BatchRetryRule } from './simulated-batch';

const REPO_ROOT = resolve(__dirname, '..', '..');

export interface SynthesizedPipeline {
  /** The training pipeline. */
  readonly definition: AslDefinition;
  /** The canary rollout and the game-day drill. */
  readonly rollout: AslDefinition;
  readonly gameDay: AslDefinition;
  /** The judge's curation; absent for a stage without a judge. */
  readonly curation?: AslDefinition;
  /** The daily operating reports, and the settings the stack passes their function. */
  readonly operatingReports: AslDefinition;
  readonly operatingReportsConfig: OperatingReportsConfig;
  /** Retry strategy of a Batch job definition, by the placeholder ARN the ASL names it with. */
  readonly jobDefinition: (arnOrName: string) => SimulatedJobDefinition;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: {
    readonly RetryStrategy?: { readonly Attempts?: number; readonly EvaluateOnExit?: BatchRetryRule[] };
    readonly Environment?: { readonly Variables?: Readonly<Record<string, unknown>> };
  };
}

/** The OPERATING_REPORTS setting of the report function, exactly as the stack synthesizes it. */
function operatingReportsConfigOf(template: LoopTemplate): OperatingReportsConfig {
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && typeof r.Properties?.Environment?.Variables?.[OPERATING_REPORTS_ENV.settings] === 'string');
  if (fn === undefined) throw new Error(`The loop stack template has no function with ${OPERATING_REPORTS_ENV.settings}`);
  return parseOperatingReportsConfig(fn.Properties!.Environment!.Variables![OPERATING_REPORTS_ENV.settings] as string);
}

type LoopTemplate = { Resources: Record<string, TemplateResource> };

/**
 * Loop stack templates already synthesized in this process, by their inputs (cdk.json, stage config,
 * reward policy). Synthesis costs about a second of CPU; a process that runs the loop more than once
 * (the test suites, a run that judges before it trains) synthesizes each set of inputs once. The
 * definitions are rendered afresh from the template on every call, so no caller shares a mutable object.
 */
const loopTemplates = new Map<string, LoopTemplate>();
const MAX_CACHED_TEMPLATES = 8;

/**
 * The folder of one jest run (made by test/setup/global-setup.ts, removed when the run ends, inherited by
 * the `npm run local` processes the tests start): a template one test process synthesized is written there
 * and read by the others, so a run synthesizes each set of inputs once instead of once per test file. Unset
 * outside the tests; a new folder per run, so no process reads a template older code synthesized.
 */
const SHARED_SYNTHESIS_ENV = 'SIAL_TEST_SYNTHESIS_DIR';

function sharedTemplateFile(key: string): string | undefined {
  const dir = process.env[SHARED_SYNTHESIS_ENV];
  if (dir === undefined || dir === '' || !existsSync(dir)) return undefined;
  return join(dir, `loop-${createHash('sha256').update(key).digest('hex')}.json`);
}

function remember(key: string, template: LoopTemplate): LoopTemplate {
  if (loopTemplates.size >= MAX_CACHED_TEMPLATES) loopTemplates.delete(loopTemplates.keys().next().value!);
  loopTemplates.set(key, template);
  return template;
}

function synthesizedLoopTemplate(config: StageConfig, rewardPolicy: RewardPolicy): LoopTemplate {
  const cdkJsonText = readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8');
  const key = JSON.stringify([cdkJsonText, config, rewardPolicy]);
  const cached = loopTemplates.get(key);
  if (cached !== undefined) return cached;
  const shared = sharedTemplateFile(key);
  if (shared !== undefined && existsSync(shared)) return remember(key, JSON.parse(readFileSync(shared, 'utf8')) as LoopTemplate);
  const cdkJson = JSON.parse(cdkJsonText) as { context?: Record<string, unknown> };
  const app = new App({
    context: { ...(cdkJson.context ?? {}), stage: config.stage, 'aws:cdk:bundling-stacks': [] },
    outdir: undefined,
    // CloudFormation's built-in template validator only reports, it never changes the template, and it
    // took about a third of a local run's CPU. `cdk synth` runs it, and so does the strict synthesis
    // test (test/constructs/strict-synth.test.ts) for every stage.
    builtinCloudFormationValidation: false,
  });
  buildApp({ app, config, rewardPolicy, nag: false });
  const template = app.synth().getStackByName(loopStackName(config.stage)).template as LoopTemplate;
  if (shared !== undefined) {
    // Written whole, then renamed: a process reading it never sees half a file.
    writeFileSync(`${shared}.${process.pid}.tmp`, JSON.stringify(template));
    renameSync(`${shared}.${process.pid}.tmp`, shared);
  }
  return remember(key, template);
}

/** Synthesizes the stage's app and returns the training pipeline's definition and job definitions. */
export function synthesizePipeline(config: StageConfig, rewardPolicy: RewardPolicy = readRewardPolicy(config.rewardPolicyVersion)): SynthesizedPipeline {
  const template = synthesizedLoopTemplate(config, rewardPolicy);
  const machines = stateMachineLogicalIds(template);
  const render = (prefix: string): AslDefinition => {
    const logicalId = machines.find((id) => id.startsWith(prefix));
    if (logicalId === undefined) throw new Error(`The ${loopStackName(config.stage)} template has no state machine ${prefix}*; found ${machines.join(', ')}`);
    return renderAsl(template, logicalId);
  };

  const jobDefinitions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Batch::JobDefinition');
  return {
    definition: render('PipelineStateMachine'),
    rollout: render('RolloutStateMachine'),
    gameDay: render('RolloutGameDayStateMachine'),
    ...(machines.some((id) => id.startsWith('JudgeCurationStateMachine')) ? { curation: render('JudgeCurationStateMachine') } : {}),
    operatingReports: render('OperatingReportsStateMachine'),
    operatingReportsConfig: operatingReportsConfigOf(template),
    jobDefinition(arnOrName: string): SimulatedJobDefinition {
      const match = jobDefinitions.find(([id]) => arnOrName.includes(id));
      if (match === undefined) throw new Error(`No job definition in the template matches "${arnOrName}"`);
      const retry = match[1].Properties?.RetryStrategy;
      return { attempts: retry?.Attempts ?? 1, evaluateOnExit: structuredClone(retry?.EvaluateOnExit ?? []) };
    },
  };
}

/** The rendered definition as aws-local-stepfunctions types it. */
export function asStateMachineDefinition(definition: AslDefinition): StateMachineDefinition {
  return definition as unknown as StateMachineDefinition;
}
