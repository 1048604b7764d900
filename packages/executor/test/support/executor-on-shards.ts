/** An Executor with the real planner over one vschema, on the given shard servers. */
import { Planner } from '@shardgate/planner';
import { loadVSchema } from '@shardgate/vschema';
import { Executor, type ExecutorOptions } from '../../src/index.js';

export async function startExecutor(vschemaJson: unknown, topology: ExecutorOptions['topology']): Promise<Executor> {
  const vschema = loadVSchema(vschemaJson);
  const executor = new Executor({ vschema, planner: new Planner({ vschema }), topology });
  await executor.start();
  return executor;
}
