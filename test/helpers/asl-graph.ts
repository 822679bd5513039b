/** Walking a rendered state machine definition as a graph (the graph tests prove rules on every path). */
import type { AslDefinition, AslState } from '../../stepfunctions/render-asl';

/** Every state a state can hand over to: Next, Default, each Choice rule, each Catch. */
export function successors(state: AslState): string[] {
  const next: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === 'string') next.push(value);
  };
  add(state.Next);
  add(state.Default);
  for (const rule of (state.Choices as Array<{ Next?: unknown }> | undefined) ?? []) add(rule.Next);
  for (const handler of (state.Catch as Array<{ Next?: unknown }> | undefined) ?? []) add(handler.Next);
  return next;
}

/** The states reachable from `from` (default: the start) without passing any state of `without`. */
export function reachable(definition: AslDefinition, without: ReadonlySet<string>, from: string = definition.StartAt): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name) || without.has(name)) continue;
    seen.add(name);
    const state = definition.States[name];
    if (state === undefined) throw new Error(`the definition names a state "${name}" it does not declare`);
    queue.push(...successors(state));
  }
  return seen;
}

