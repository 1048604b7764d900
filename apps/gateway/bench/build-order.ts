/**
 * The order in which an A/B bench runs its builds in one round. The build that runs first in a
 * round measured up to 30% cheaper (in-process-scatter, 2026-12-06), whichever build it was, so
 * the order alternates from round to round: round 1 as given, round 2 reversed, and so on.
 */
export function buildsInRound<T>(builds: readonly T[], round: number): readonly T[] {
  return round % 2 === 1 ? builds : [...builds].reverse();
}
