import { DEFAULT_RETAIN_APPROVED_MODEL_VERSIONS, DEFAULT_RETAIN_APPROVED_ROUTER_VERSIONS, DEFAULT_ROUTER_GATE } from '../../config/governance-defaults';
import { isRouterTarget, parseStageConfig, registryKeyOf, type RouterTargetModel } from '../../config/schema';
import { dev } from '../../config/stages/dev';
import { pipelineSettingsFromStage, retainedApprovedVersions } from '../../lambdas/pipeline/settings';

const parse = (raw: unknown) => () => parseStageConfig(raw, 'test');
const router = dev.targetModels.find(isRouterTarget) as RouterTargetModel;
const withRouter = (changes: Record<string, unknown>): unknown => ({ ...dev, targetModels: dev.targetModels.map((m) => (m === router ? { ...router, ...changes } : m)) });

describe('router targets in the stage configuration', () => {
  it('dev configures support-router with the default gate, three tiers cheapest first and a CPU endpoint', () => {
    const parsed = parseStageConfig(dev, 'config/stages/dev.ts');
    const r = parsed.targetModels.find(isRouterTarget);
    expect(r).toMatchObject({ id: 'support-router', ...DEFAULT_ROUTER_GATE, maxMisrouteRise: 0.1 });
    expect(r?.tiers.map((t) => t.name)).toEqual(['small', 'medium', 'large']);
    expect(r?.rollout.instanceType).toMatch(/^ml\.c/);
  });

  it('a router is no family: its package group is its own, and LLMs keep their families', () => {
    const settings = pipelineSettingsFromStage(parseStageConfig(dev, 'dev'), { databaseName: 'd', tracesTable: 't', auditTable: 'a', feedbackTable: 'f', judgmentsTable: 'j' });
    expect(registryKeyOf(router)).toBe('support-router');
    expect(settings.modelPackageGroups).toEqual({ qwen3: 'sial-dev-qwen3', 'support-router': 'sial-dev-support-router' });
  });

  it('routers keep the last 10 approved versions, LLMs the last 3', () => {
    const settings = { retainApprovedModelVersions: DEFAULT_RETAIN_APPROVED_MODEL_VERSIONS, retainApprovedRouterVersions: DEFAULT_RETAIN_APPROVED_ROUTER_VERSIONS };
    expect(retainedApprovedVersions(router, settings)).toBe(10);
    expect(retainedApprovedVersions(dev.targetModels[0]!, settings)).toBe(3);
    expect(parse({ ...dev, retainApprovedRouterVersions: 5 })).toThrow(/retainApprovedRouterVersions: received 5; Too small/);
  });

  it('needs no base weights for a router', () => {
    expect(parse(dev)).not.toThrow();
    expect(dev.training.baseModelUris['support-router']).toBeUndefined();
  });

  it('refuses tiers that are not cheapest first, a tier named twice, or fewer than two', () => {
    const [small, medium, large] = router.tiers;
    expect(parse(withRouter({ tiers: [large, small, medium] }))).toThrow(/targetModels\.2\.tiers: received .*; tiers must be listed cheapest first, received costs \[6,0\.4,1\.5\]/);
    expect(parse(withRouter({ tiers: [small, small] }))).toThrow(/tier "small" is named twice/);
    expect(parse(withRouter({ tiers: [small] }))).toThrow(/targetModels\.2\.tiers: received .*; Too small/);
  });

  it('refuses a GPU serving instance and a Fargate size Fargate does not offer', () => {
    expect(parse(withRouter({ rollout: { ...router.rollout, instanceType: 'ml.g6e.2xlarge' } }))).toThrow(/targetModels\.2\.rollout\.instanceType: received "ml\.g6e\.2xlarge"; must be a CPU instance type/);
    expect(parse(withRouter({ resources: { vcpus: 3, memoryMiB: 4096, maxJobHours: 1 } }))).toThrow(/resources\.vcpus: received 3; must be a Fargate vCPU value/);
    expect(parse(withRouter({ resources: { vcpus: 2, memoryMiB: 2048, maxJobHours: 1 } }))).toThrow(/resources\.memoryMiB: received .*; Fargate gives 2 vCPU 4096-16384 MiB in steps of 1024, received 2048/);
  });

  it('refuses a router thresholds out of range, and a router carrying an LLM family', () => {
    expect(parse(withRouter({ maxMisrouteRise: 0 }))).toThrow(/targetModels\.2\.maxMisrouteRise: received 0/);
    expect(parse(withRouter({ qualityFloor: 1.5 }))).toThrow(/targetModels\.2\.qualityFloor: received 1\.5/);
    expect(parse(withRouter({ family: 'qwen3' }))).toThrow(/targetModels\.2: received .*Unrecognized key: "family"/);
  });

  it('refuses a router id that names a family group, and duplicate target ids', () => {
    expect(parse(withRouter({ id: 'qwen3' }))).toThrow(/targetModels\.2\.id: received "qwen3"; a router's id names its model package group and must not be a model family's/);
    expect(parse(withRouter({ id: 'qwen3-4b' }))).toThrow(/targetModels\.2\.id: received "qwen3-4b"; target model ids must be unique/);
  });

  it('still refuses a managed closed model as an LLM target, and an unknown kind', () => {
    expect(parse({ ...dev, targetModels: [{ ...dev.targetModels[0], family: 'openai-gpt-4.1' }] })).toThrow(/managed closed model/);
    expect(parse({ ...dev, targetModels: [{ ...router, kind: 'classifier' }] })).toThrow(/targetModels\.0\.kind: received "classifier"; Invalid discriminator value/);
  });
});
