/** LakeStatements on Athena: each statement through the dataset build's AthenaSqlEngine (workgroup, polling, stop on timeout). */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { AthenaSqlEngine, type AthenaSqlEngineOptions } from '../../pipeline/dataset/athena-sql-engine';
import type { LakeStatements } from '../erasure-workflow';

export function athenaLakeStatements(client: AthenaClient, options: Pick<AthenaSqlEngineOptions, 'workGroup' | 'database' | 'timeoutMs' | 'sleep' | 'pollInitialMs'>): LakeStatements {
  // The statements name their tables themselves (database-qualified); the engine's placeholders are unused.
  const engine = new AthenaSqlEngine(client, { ...options, tables: { traces: 'traces', gate_audit: 'gate_audit', feedback: 'feedback', judgments: 'judgments' } });
  return { query: (name, sql) => engine.query({ name, template: sql }, []), execute: (name, sql) => engine.execute({ name, template: sql }, []) };
}
