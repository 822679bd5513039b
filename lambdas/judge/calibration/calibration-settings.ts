/**
 * What the calibration jobs need from the stage configuration (config/schema.ts judgeCalibration),
 * validated again where it arrives as JSON (a Lambda's environment), so a function never runs on
 * settings the config would have refused.
 */
import { z } from 'zod';

export const calibrationSettingsSchema = z.strictObject({
  samplingRate: z.number().min(0.001).max(0.2),
  bandUpperBounds: z.array(z.number().gt(0).max(1)).min(1).max(10),
  minPerStratum: z.number().int().min(1).max(50),
  passAt: z.number().gt(0).lt(1),
  minKappa: z.number().min(-1).max(1),
  minReviewed: z.number().int().min(1),
  windowDays: z.number().int().min(7).max(90),
  linkExpiryHours: z.number().int().min(1).max(24 * 14),
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
