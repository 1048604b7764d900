/**
 * A small pool of plan workers (worker_threads) that run parse + plan build off the event loop on
 * plan-cache misses, and the normalizing of long statements, with a deadline per statement.
 *
 * Workers start on demand, up to `size`: a miss that finds every live worker busy starts one more.
 * One that has planned nothing for `idleTimeoutMs` exits, so a gateway whose plans are all cached
 * holds no worker (each costs about 25 MB of memory: an isolate plus the parser).
 *
 * A pool of our own rather than Piscina: we need to terminate and replace the one worker that is
 * stuck past its deadline (Piscina's per-task abort also kills the worker, but adds a dependency
 * and its own queue/timeout layers), to send the vschema JSON only to workers that have not
 * loaded the current epoch, and nothing else; that is about 150 lines and no new dependency.
 *
 * Concurrency rule: all state (workers, queue, in-flight jobs, idle timers) is touched only on the
 * main thread, in synchronous steps between events; a job is settled exactly once (by its
 * worker's reply, its deadline, a worker crash, or dispose), and settling clears its timer. A
 * worker leaves `slots` in the same step as it is terminated, and only an idle one (no job) exits
 * for idleness.
 */
import { Worker } from 'node:worker_threads';
import type { Plan, SqlValue } from './plan-types.js';
import type { NormalizedQuery, UserVariables } from './normalizer.js';
import { PlanError } from './errors.js';
import { bindVarsInSlices, reviveError, tagForTransfer, unpackInSlices, type NormalizedReply, type PlanReply, type PlanResultMessage, type WorkerJobMessage } from './plan-transfer.js';

/** MariaDB's ER_STATEMENT_TIMEOUT: what it returns past max_statement_time. */
export const ER_STATEMENT_TIMEOUT = 1969;

/**
 * Stack of each worker (MiB). node-sql-parser is a recursive-descent (PEG) parser and the planner
 * walks its AST recursively: with Node's default 4 MiB, a 50,000-term OR chain or 10,000 nested
 * parentheses overflowed, where MariaDB answers both. The memory is reserved, and only touched
 * by statements that nest that deep.
 */
export const PLAN_WORKER_STACK_MB = 256;

export interface PlanWorkerPoolOptions {
  /** Most workers alive at once. */
  readonly size: number;
  /** Deadline per statement, from the time it is queued or the deadline a caller passes (a worker's start included). */
  readonly timeoutMs: number;
  /** A worker with no statement for this long exits (0: never; default 30 s). */
  readonly idleTimeoutMs?: number;
  /** Stack size of each worker, MiB (default PLAN_WORKER_STACK_MB). */
  readonly stackSizeMb?: number;
}

type JobBody = { readonly op: 'plan'; readonly epoch: number; readonly vschemaJson: unknown; readonly normalized: NormalizedQuery; readonly target: string | null } | { readonly op: 'normalize'; readonly message: WorkerJobMessage };

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/**
 * The young generation of a worker (12 MB: 4 MB semi-spaces). Its allocations are short-lived
 * (one parse, one plan), and V8's default lets each isolate's semi-spaces grow to 16 MB, pages a
 * busy worker keeps once touched. A few more scavenges on a large statement cost less.
 */
const WORKER_YOUNG_GENERATION_MB = 12;

interface Job {
  readonly id: number;
  readonly body: JobBody;
  readonly resolve: (result: PlanReply | NormalizedReply) => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  slot: Slot | null;
}

interface Slot {
  worker: Worker;
  /** The epoch whose vschema JSON this worker was last sent (-1: none). */
  epoch: number;
  job: Job | null;
  /** Settles once the worker has loaded its modules (or failed to). */
  readonly ready: Promise<void>;
  /** performance.now() when the worker last finished a statement (or started). */
  idleSince: number;
  /** Checks whether the worker has been idle for idleTimeoutMs; armed while it is idle. */
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * The built worker script. Tests run the planner from src (vitest), where the worker must still
 * be the compiled JS: build the planner before running them.
 */
function workerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? '../dist/plan-worker.js' : './plan-worker.js', import.meta.url);
}

/** Bytes the worker estimated for each plan it built (the plan cache's sizer reads it, see Planner). */
export const workerPlanBytes = new WeakMap<Plan, number>();

export class PlanWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private disposed = false;
  /** Workers terminated for missing their deadline (tests, metrics). */
  replaced = 0;

  private readonly size: number;
  private readonly idleTimeoutMs: number;

  constructor(private readonly opts: PlanWorkerPoolOptions) {
    this.size = Math.max(1, opts.size);
    this.idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** Workers alive now (started and not exited). */
  get liveWorkers(): number {
    return this.slots.length;
  }

  /** The deadline of a statement that starts now (performance.now() time). */
  deadlineFromNow(): number {
    return performance.now() + this.opts.timeoutMs;
  }

  /**
   * Builds the plan of `normalized` against the vschema of `epoch` (given by its source JSON),
   * failing with 1969 past `deadline` (default: timeoutMs from now).
   */
  run(normalized: NormalizedQuery, target: string | null, epoch: number, vschemaJson: unknown, deadline = this.deadlineFromNow()): Promise<Plan> {
    return (this.submit({ op: 'plan', epoch, vschemaJson, normalized, target }, deadline) as Promise<PlanReply>).then(async (reply) => {
      const plan = reply.tagged ? await unpackInSlices(reply.plan) : reply.plan;
      workerPlanBytes.set(plan, reply.bytes);
      return plan;
    });
  }

  /** Normalizes a statement in a worker (see PlannerOptions.largeStatementChars). */
  normalize(sql: string, params: readonly SqlValue[] | undefined, userVariables: UserVariables | undefined, deadline = this.deadlineFromNow()): Promise<NormalizedQuery> {
    // Tagged now: the values are the caller's at the time of the call, as a synchronous normalize
    // would read them.
    const message: WorkerJobMessage = {
      op: 'normalize',
      id: 0,
      sql,
      params: params === undefined ? undefined : tagForTransfer(params),
      userVariables: userVariables === undefined ? undefined : tagForTransfer([...userVariables]),
    };
    return (this.submit({ op: 'normalize', message }, deadline) as Promise<NormalizedReply>).then((reply) => bindVarsInSlices(reply));
  }

  private submit(body: JobBody, deadline: number): Promise<PlanReply | NormalizedReply> {
    if (this.disposed) return Promise.reject(new PlanError(1105, 'HY000', 'the planner is stopped'));
    return new Promise<PlanReply | NormalizedReply>((resolve, reject) => {
      const job: Job = { id: this.nextId++, body, resolve, reject, timer: undefined, slot: null };
      job.timer = setTimeout(() => this.expire(job), Math.max(0, deadline - performance.now()));
      this.queue.push(job);
      this.dispatch();
    });
  }

  /**
   * Starts one worker if none is alive and resolves once it has loaded its modules, so that the
   * first statements after a start do not wait for a worker to boot (the gateway awaits it before
   * it listens). It exits like any other after idleTimeoutMs without a statement.
   */
  async ready(): Promise<void> {
    if (this.disposed) return;
    if (this.slots.length === 0) {
      const slot = this.spawn();
      this.slots.push(slot);
      this.armIdleTimer(slot);
    }
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** Terminates every worker; queued and running jobs reject. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const err = new PlanError(1105, 'HY000', 'the planner is stopped');
    for (const job of this.queue.splice(0)) this.settle(job, err);
    for (const slot of this.slots) {
      if (slot.job) this.settle(slot.job, err);
      clearTimeout(slot.idleTimer);
      void slot.worker.terminate();
    }
    this.slots.length = 0;
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl(), { resourceLimits: { stackSizeMb: this.opts.stackSizeMb ?? PLAN_WORKER_STACK_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    // Idle workers must not keep a process alive; dispose() terminates them.
    worker.unref();
    let started!: () => void;
    const slot: Slot = {
      worker,
      epoch: -1,
      job: null,
      ready: new Promise<void>((resolve) => (started = resolve)),
      idleSince: performance.now(),
      idleTimer: undefined,
    };
    worker.once('exit', () => started());
    worker.on('message', (msg: PlanResultMessage | { ready: true }) => {
      if ('ready' in msg) return started();
      const job = slot.job;
      if (job === null || job.id !== msg.id) return;
      slot.job = null;
      slot.idleSince = performance.now();
      if (!msg.ok) this.settle(job, reviveError(msg.error));
      else this.settle(job, null, msg);
      this.dispatch();
      if (slot.job === null) this.armIdleTimer(slot);
    });
    const crashed = (reason: string) => {
      if (this.disposed || !this.slots.includes(slot)) return;
      const job = slot.job;
      this.remove(slot);
      if (job) this.settle(job, new PlanError(1105, 'HY000', `planning failed: the plan worker ${reason}`));
      this.dispatch();
    };
    worker.on('error', (err) => crashed(`failed (${err.message})`));
    worker.on('exit', (code) => crashed(`exited with code ${code}`));
    return slot;
  }

  /**
   * Takes a slot out of the pool and terminates its worker (idle, stuck past a deadline, or
   * crashed); its exit is then ignored. The next statement that finds no idle worker starts one.
   */
  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    slot.job = null;
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    void slot.worker.terminate();
  }

  /**
   * Arms the slot's idle check unless one is armed. A worker that took statements meanwhile is
   * seen by its idleSince when the timer fires, which then re-arms for the rest of the interval:
   * one timer per idle period, not one per statement.
   */
  private armIdleTimer(slot: Slot): void {
    if (this.idleTimeoutMs <= 0 || slot.idleTimer !== undefined) return;
    const check = (): void => {
      slot.idleTimer = undefined;
      if (this.disposed || !this.slots.includes(slot) || slot.job !== null) return;
      const left = this.idleTimeoutMs - (performance.now() - slot.idleSince);
      if (left > 0) {
        slot.idleTimer = setTimeout(check, left);
        slot.idleTimer.unref();
        return;
      }
      this.remove(slot);
    };
    slot.idleTimer = setTimeout(check, this.idleTimeoutMs);
    slot.idleTimer.unref();
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (slot === undefined) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
        this.slots.push(slot);
      }
      const job = this.queue.shift()!;
      slot.job = job;
      job.slot = slot;
      const body = job.body;
      let msg: WorkerJobMessage;
      if (body.op === 'normalize') {
        msg = { ...body.message, id: job.id } as WorkerJobMessage;
      } else {
        const sendJson = slot.epoch !== body.epoch;
        slot.epoch = body.epoch;
        msg = {
          op: 'plan',
          id: job.id,
          epoch: body.epoch,
          ...(sendJson ? { vschemaJson: body.vschemaJson } : {}),
          normalized: tagForTransfer({ ...body.normalized, bindVars: {} }),
          target: body.target,
        };
      }
      slot.worker.postMessage(msg);
    }
  }

  private expire(job: Job): void {
    job.timer = undefined;
    const slot = job.slot;
    if (slot !== null && slot.job === job) {
      // The worker is busy with this statement and cannot be interrupted: replace it.
      this.replaced++;
      this.remove(slot);
    } else {
      const i = this.queue.indexOf(job);
      if (i >= 0) this.queue.splice(i, 1);
    }
    this.settle(
      job,
      new PlanError(ER_STATEMENT_TIMEOUT, '70100', `Query execution was interrupted (max_statement_time exceeded): planning took longer than planTimeoutMs (${this.opts.timeoutMs} ms)`),
    );
    this.dispatch();
  }

  private settle(job: Job, err: Error | null, result?: PlanReply | NormalizedReply): void {
    if (job.timer !== undefined) clearTimeout(job.timer);
    job.timer = undefined;
    job.slot = null;
    if (err) job.reject(err);
    else job.resolve(result!);
  }
}
