/**
 * `sial retention remove`: the one way to remove a registered model or router version, or a published
 * reward policy's file, and the guard in front of it. The newest N approved versions of a target model
 * (stage config retainApprovedModelVersions / retainApprovedRouterVersions) and the last 5 published
 * reward policies are refused, whoever runs it. In AWS the removal itself needs the stage's break-glass
 * role: the bucket policy and every loop role deny it to anyone else (README, Retention).
 */
import { loadStageConfig, type StageConfig } from '../../config';
import { readPolicyHistory, policyRemovalRefusal } from '../../config/reward-policies/history';
import { REWARD_POLICY_DIR } from '../../config/reward-policies/read';
import { MODEL_METADATA, versionFromArn } from '../../lambdas/pipeline/register-model/model-registry';
import { removalDecision } from '../../lambdas/pipeline/register-model/retention';
import { retainedApprovedVersions } from '../../lambdas/pipeline/settings';
import { EXIT, parseCommandLine, UsageError, type CliCommand, type CliContext } from './command';
import { awsRetentionBackend, type RetentionBackend } from './retention-backend';

const USAGE = `usage:
  sial retention remove --stage NAME --model-package ARN [--execute]
  sial retention remove --reward-policy VERSION

Checks that a registered version may be removed and, with --execute, removes it: the model package
(SageMaker DeleteModelPackage) and every S3 version of its artifact (model.tar.gz).

Refused, whoever asks: one of the newest N approved versions of the package's target model (N = the
stage's retainApprovedModelVersions for an LLM, retainApprovedRouterVersions for a router), and one of
the last 5 published reward policies. Everything else needs the stage's break-glass role in AWS
(sial-NAME-retention-break-glass, MFA, one hour); assuming it alerts the stage's notification e-mails.

where:
  --stage NAME            the stage whose retention settings apply (its AWS credentials from the environment)
  --model-package ARN     the version: arn:aws:sagemaker:REGION:ACCOUNT:model-package/sial-NAME-FAMILY/VERSION
  --execute               remove it (without: only say whether it may go, and why)
  --reward-policy VERSION whether a published policy's file may be removed (the removal is a reviewed commit)`;

const OPTIONS = {
  stage: { type: 'string' },
  'model-package': { type: 'string' },
  'reward-policy': { type: 'string' },
  execute: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const PACKAGE_ARN = /^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):\d{12}:model-package\/([a-z0-9-]+)\/(\d+)$/;

/** How many approved versions of `targetModelId` stay: its kind's setting, the larger one when the stage does not know the model. */
function keepFor(config: StageConfig, targetModelId: string | undefined): { keep: number; why: string } {
  const model = config.targetModels.find((m) => m.id === targetModelId);
  if (model !== undefined) return { keep: retainedApprovedVersions(model, config), why: `${model.kind ?? 'llm'} ${model.id}` };
  const keep = Math.max(config.retainApprovedModelVersions, config.retainApprovedRouterVersions);
  return { keep, why: `target model ${targetModelId ?? '(none)'} is not in stage ${config.stage}: the larger retention applies` };
}

async function removeModelPackage(arn: string, stage: string, execute: boolean, context: CliContext, backend: (region: string) => RetentionBackend): Promise<number> {
  const match = PACKAGE_ARN.exec(arn);
  if (match === null) throw new UsageError(`--model-package "${arn}" is not a model package ARN (arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)`);
  const [, region, group] = match as unknown as [string, string, string];
  if (!group.startsWith(`sial-${stage}-`)) throw new UsageError(`--model-package is in group ${group}, not one of stage ${stage} (sial-${stage}-FAMILY)`);
  const config = loadStageConfig(stage);
  const aws = backend(region);
  const packages = await aws.registry.listPackages(group);
  const target = packages.find((p) => p.arn === arn || (p.groupName === group && p.version === versionFromArn(arn)));
  if (target === undefined) {
    context.io.err(`model package ${arn} is not in group ${group}; nothing removed`);
    return EXIT.failed;
  }
  const { keep, why } = keepFor(config, target.metadata[MODEL_METADATA.targetModelId]);
  const decision = removalDecision(target, packages, keep);
  if (!decision.removable) {
    context.io.err(`refused: ${decision.reason} (retention ${keep}: ${why})`);
    return EXIT.failed;
  }
  if (!execute) {
    context.io.out(`may be removed: ${decision.reason} (retention ${keep}: ${why}). Dry run: add --execute, with the break-glass role's credentials.`);
    return EXIT.ok;
  }
  // The artifact first: if the package delete then fails, running the command again finishes the job; the
  // other order would leave an orphan artifact that no registry entry names any more.
  const removedVersions = target.modelDataUrl === undefined ? 0 : await aws.deleteAllVersions(target.modelDataUrl);
  await aws.deleteModelPackage(target.arn);
  context.io.out(`removed version ${target.version} of ${group} (${removedVersions} object version(s) of ${target.modelDataUrl ?? 'no artifact'}): ${decision.reason}`);
  return EXIT.ok;
}

function checkRewardPolicy(version: string, context: CliContext, dir: string): number {
  const refusal = policyRemovalRefusal(readPolicyHistory(dir), version);
  if (refusal !== undefined) {
    context.io.err(`refused: ${refusal}`);
    return EXIT.failed;
  }
  context.io.out(`reward policy ${version} is older than the last 5 published: its file may be removed in a reviewed commit (its history entry stays)`);
  return EXIT.ok;
}

/** The command, with the AWS backend and the policy folder injectable for tests. */
export function retentionCommandWith(backend: (region: string) => RetentionBackend, policyDir: string = REWARD_POLICY_DIR): CliCommand {
  return {
    name: 'retention',
    summary: 'remove an old registered version or policy, refusing the newest N (break-glass in AWS)',
    usage: USAGE,
    async run(args, context) {
      const [sub, ...rest] = args;
      if (sub !== 'remove') throw new UsageError(sub === undefined ? 'missing subcommand: remove' : `unknown subcommand "${sub}"; expected remove`);
      const parsed = parseCommandLine(rest, OPTIONS, USAGE, context);
      if (parsed === undefined) return EXIT.ok;
      const { values, positionals } = parsed;
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const policy = values['reward-policy'];
      const pkg = values['model-package'];
      if ((policy === undefined) === (pkg === undefined)) throw new UsageError('give exactly one of --model-package and --reward-policy');
      if (policy !== undefined) {
        if (values.execute === true) throw new UsageError('--execute does not apply to --reward-policy: removing a policy file is a reviewed commit');
        return checkRewardPolicy(policy, context, policyDir);
      }
      if (values.stage === undefined) throw new UsageError('--model-package needs --stage');
      return removeModelPackage(pkg!, values.stage, values.execute === true, context, backend);
    },
  };
}

export const retentionCommand: CliCommand = retentionCommandWith(awsRetentionBackend);
