/** A pseudonymiser under a fixed test key (the same bytes every run, so pseudonyms are stable in tests). */
import { createPseudonymiser } from '../../lambdas/shared/pseudonymisation';

export const TEST_PSEUDONYMISATION_KEY = Buffer.alloc(32, 0x5a);
export const testPseudonymiser = createPseudonymiser(TEST_PSEUDONYMISATION_KEY);
