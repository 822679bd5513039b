/**
 * zod/mini, the functional build of zod that a bundler can tree-shake, with zod's English messages.
 * Runtime schemas under lambdas/ import it as `import * as z from '<path>/shared/zod-mini'` (a
 * namespace import, so esbuild keeps only what the schemas call): classic `zod` costs about 100 KB in
 * every bundle that imports it, this a fifth of that (docs/decisions.md, "Lambda bundles").
 *
 * Classic zod sets the English messages when its first schema is built; zod/mini sets none and says
 * only "Invalid input". Setting them here keeps every message a function reports the same as classic
 * zod's, in a bundle without classic zod as in a test process that loads both.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
