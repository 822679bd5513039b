/**
 * What the calibration jobs need from the stage configuration (config/schema.ts judgeCalibration),
 * validated again where it arrives as JSON (a Lambda's environment), so a function never runs on
 * settings the config would have refused.
 */
import * as z from '../../shared/zod-mini';

/** The jobs' part of `judgeCalibration`; the stage config extends it with the schedule and the reviewers. */
export const calibrationSettingsSchema = z.strictObject({
  /** Share of each stratum (agent x judged-score band) of the last 7 days' judgments put in the review queue. */
  samplingRate: z.number().check(z.gte(0.001), z.lte(0.2)),
  /** Upper bounds of the judged-faithfulness bands, ascending, the last exactly 1 (e.g. [0.5, 0.8, 1]). */
  bandUpperBounds: z.array(z.number().check(z.gt(0), z.lte(1))).check(z.minLength(1), z.maxLength(10)),
  /** At least this many items from every non-empty stratum, so rare agents and rare verdicts are reviewed too. */
  minPerStratum: z.number().check(z.int(), z.gte(1), z.lte(50)),
  /** A score at or above this is a pass, for kappa and the true-positive / true-negative rates. */
  passAt: z.number().check(z.gt(0), z.lt(1)),
  /** The alarm fires when a dimension's kappa over the window is below this... */
  minKappa: z.number().check(z.gte(-1), z.lte(1)),
  /** ...or when fewer items than this were reviewed in the window. */
  minReviewed: z.number().check(z.int(), z.gte(1)),
  /** The agreement window, in days (the report and its alarm look this far back). */
  windowDays: z.number().check(z.int(), z.gte(7), z.lte(90)),
  /** How long a review link stays valid, in hours (a week by default: the next sample replaces it). */
  linkExpiryHours: z.number().check(z.int(), z.gte(1), z.lte(24 * 14)),
});

export type CalibrationSettings = z.infer<typeof calibrationSettingsSchema>;

/** The settings from a stage's judgeCalibration section (drops what only the construct uses). */
export function calibrationSettingsOf(config: CalibrationSettings & Record<string, unknown>): CalibrationSettings {
  const { samplingRate, bandUpperBounds, minPerStratum, passAt, minKappa, minReviewed, windowDays, linkExpiryHours } = config;
  return calibrationSettingsSchema.parse({ samplingRate, bandUpperBounds, minPerStratum, passAt, minKappa, minReviewed, windowDays, linkExpiryHours });
}

/** The environment variable holding the settings as JSON. */
export const CALIBRATION_SETTINGS_ENV = 'CALIBRATION_SETTINGS';

/** Reads and validates CALIBRATION_SETTINGS. */
export function calibrationSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): CalibrationSettings {
  const json = env[CALIBRATION_SETTINGS_ENV];
  if (json === undefined || json === '') throw new Error(`${CALIBRATION_SETTINGS_ENV} is not set: the construct passes the calibration settings as JSON`);
  const parsed = calibrationSettingsSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`${CALIBRATION_SETTINGS_ENV} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
