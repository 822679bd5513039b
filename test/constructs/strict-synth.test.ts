/**
 * The one synthesis that runs like `cdk synth` in full: real esbuild bundling, CloudFormation's
 * built-in template validation in strict mode (a warning fails), and the cdk-nag plugin. Every other
 * construct test switches these off for speed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ESM_REQUIRE_BANNER } from '../../lib/constructs/private/esm-function';
import { STAGE_NAMES, buildTestApp } from '../helpers/app';

test('every stage synthesizes under strict CloudFormation validation with real ESM bundles', () => {
  for (const stage of STAGE_NAMES) {
    const { app, dataStack } = buildTestApp(stage, { strict: true, nag: true });
    expect(app.node.tryGetContext('@aws-cdk/core:strictCfnValidateErrors')).toBe(true);
    expect(app.node.tryGetContext('aws:cdk:bundling-stacks')).toBeUndefined();

    // Throws on any validator error or (strict) warning, and on any unacknowledged cdk-nag finding.
    const assembly = app.synth();
    const artifact = assembly.getStackArtifact(dataStack.artifactId);
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);

    const resources = artifact.template.Resources as Record<string, { Type: string; Properties: { Code?: { S3Key?: string }; Handler?: string } }>;
    const functions = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && /^(GateFunction|FeedbackApiFunction)/.test(id));
    expect(functions).toHaveLength(2);
    for (const [id, fn] of functions) {
      const hash = fn.Properties.Code!.S3Key!.replace(/\.zip$/, '');
      const assetDir = path.join(assembly.directory, `asset.${hash}`);
      expect({ id, files: fs.readdirSync(assetDir) }).toEqual({ id, files: ['index.mjs'] });
      const bundle = fs.readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
      expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      // Minified: long lines (thousands of characters on average), not one line per source statement.
      expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(2000);
      // The AWS SDK stays external (the runtime provides it) and is imported, ESM style.
      expect(bundle).toMatch(/from\s*"@aws-sdk\/client-(comprehend|firehose)"/);
      expect(bundle).not.toContain('@aws-sdk/client-comprehend/dist-cjs');
      expect(bundle).toMatch(/export\s*\{[^}]*handler[^}]*\}/);
    }
  }
});
