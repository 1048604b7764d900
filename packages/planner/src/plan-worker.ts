/**
 * The plan worker (worker_threads): parses and builds plans off the gateway's event loop, and
 * normalizes long statements (see PlannerOptions.largeStatementChars). It keeps the vschema of
 * the latest epoch it was sent (loadVSchema of its source JSON, since a VSchema holds vindex
 * functions and cannot be cloned); a job of a newer epoch carries the JSON again.
 */
import { parentPort } from 'node:worker_threads';
import { loadVSchema, type VSchema } from '@shardgate/vschema';
import { buildPlan } from './statement-planner.js';
import { normalize } from './normalizer.js';
import { estimateBytes } from './plan-size.js';
import type { SqlValue } from './plan-types.js';
import { errorForTransfer, normalizedReply, packForTransfer, reviveTransfer, type PlanResultMessage, type WorkerJobMessage } from './plan-transfer.js';
import { sqlParser } from './sql-parser.js';

let loaded: { epoch: number; vschema: VSchema } | null = null;

parentPort!.on('message', (job: WorkerJobMessage) => {
  let reply: PlanResultMessage;
  try {
    if (job.op === 'normalize') {
      const params = job.params === undefined ? undefined : reviveTransfer(job.params);
      const vars = job.userVariables === undefined ? undefined : new Map<string, SqlValue>(reviveTransfer(job.userVariables));
      reply = normalizedReply(job.id, normalize(job.sql, params, vars));
    } else {
      if (job.vschemaJson !== undefined && loaded?.epoch !== job.epoch) loaded = { epoch: job.epoch, vschema: loadVSchema(job.vschemaJson) };
      if (loaded === null || loaded.epoch !== job.epoch) throw new Error(`plan worker has no vschema for epoch ${job.epoch}`);
      const plan = buildPlan({ normalized: reviveTransfer(job.normalized), target: job.target, vschema: loaded.vschema });
      const t = packForTransfer(plan);
      reply = { id: job.id, ok: true, plan: t.value, bytes: estimateBytes(plan), tagged: t.tagged };
    }
  } catch (err) {
    reply = { id: job.id, ok: false, error: errorForTransfer(err) };
  }
  parentPort!.postMessage(reply);
});
// Tells the pool that the modules (node-sql-parser included, which loads on first use) are
// loaded: see PlanWorkerPool.ready.
sqlParser();
parentPort!.postMessage({ ready: true });
