import { dev } from '../config/stages/dev';
import { readRewardPolicy } from '../config/reward-policies/read';
import { gateConfigFromStage } from '../lambdas/gate-score/gate-config';
import { processBatch } from '../lambdas/gate-score/process-batch';
import { benchTraceRecords } from './bench-traces';
const config = gateConfigFromStage(dev, readRewardPolicy(dev.rewardPolicyVersion), { databaseName: 'bench', tracesTable: 'traces', auditTable: 'gate_audit' });
const detector = { name: 'instant', maxTextBytes: 100000, detect: async () => [] };
const batch = benchTraceRecords(1500, 2048);
(async () => { const t = Date.now(); for (let k = 0; k < 12; k++) await processBatch(batch, { config, detector, now: () => new Date() }); console.log((Date.now()-t)/12/1500*1000, 'us/trace'); })();
