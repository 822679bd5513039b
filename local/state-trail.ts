/** Formatting of an execution's state trail for the local runner's report. */

/** States in order, with a loop's repeated round printed once: `Bake -> Check canary (x180)`. */
export function collapseStates(visited: readonly string[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < visited.length) {
    let collapsed = false;
    for (const size of [3, 2, 1]) {
      const block = visited.slice(i, i + size);
      let repeats = 1;
      while (block.length === size && visited.slice(i + repeats * size, i + (repeats + 1) * size).join('\u0000') === block.join('\u0000')) repeats += 1;
      if (repeats > 1) {
        parts.push(`[${block.join(' -> ')}] x${repeats}`);
        i += repeats * size;
        collapsed = true;
        break;
      }
    }
    if (!collapsed) {
      parts.push(visited[i] as string);
      i += 1;
    }
  }
  return parts.join(' -> ');
}
