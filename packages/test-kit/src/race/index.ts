// Entry point `@shardgate/test-kit/race`: no mysql2, safe to import from production code that
// places raceYield() scheduling points (they cost one microtask outside explore()).
export {
  explore,
  fakeShardStream,
  raceYield,
  replay,
  RaceFoundError,
  type ExploreContext,
  type ExploreOptions,
  type RaceScenario,
} from './race-explorer.js';
export { StepLimitExceededError } from './race-scheduler.js';
export { CallbackLimitExceededError, FuzzedTimer } from './event-loop-fuzzer.js';
export { seededRandom } from './seeded-random.js';
export { runInRaceContext, currentRaceContextId } from './race-context.js';
export { raceCheckedMap, ConcurrentMapWriteError } from './race-checked-map.js';
