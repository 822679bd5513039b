import { dev } from '../config/stages/dev';
import policyJson from '../config/reward-policies/v1.json';
import { rewardPolicySchema } from '../lambdas/gate-score/reward/policy';
import { gateConfigFromStage } from '../lambdas/gate-score/gate-config';
import { processBatch } from '../lambdas/gate-score/process-batch';
import { benchTraceRecords } from './bench-traces';
const config = gateConfigFromStage(dev, rewardPolicySchema.parse(policyJson), { databaseName: 'bench', tracesTable: 'traces', auditTable: 'gate_audit' });
const detector = { name: 'instant', maxTextBytes: 100000, detect: async () => [] };
const batch = benchTraceRecords(1500, 2048);
async function cpu(fn: () => Promise<void>, reps: number) { await fn(); const t = process.cpuUsage(); for (let k = 0; k < reps; k++) await fn(); const c = process.cpuUsage(t); return (c.user + c.system) / reps / batch.length; }
(async () => {
  const floor = await cpu(async () => { for (const r of batch) Buffer.from(JSON.stringify(JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')))).toString('base64'); }, 20);
  const gate = await cpu(async () => { await processBatch(batch, { config, detector, now: () => new Date() }); }, 8);
  console.log(`floor ${floor.toFixed(1)} us, gate ${gate.toFixed(1)} us, ratio ${(gate / floor).toFixed(2)}x`);
})();
