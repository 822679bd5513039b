/**
 * The self-hosted open-weight families this loop may train (the scope rule: never a managed closed
 * model). Pure data, apart from the stage schema (config/schema.ts re-exports it): the gate infers a
 * trace's family from them and must not bundle the whole stage schema for one list.
 */
export const SELF_HOSTED_MODEL_FAMILIES = ['qwen3', 'llama4', 'glm5'] as const;
export type SelfHostedModelFamily = (typeof SELF_HOSTED_MODEL_FAMILIES)[number];
