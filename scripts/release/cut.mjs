// pnpm release:cut X.Y — creates the branch release-X.Y from the highest vX.Y.* tag and, on that
// branch only, points changesets' baseBranch at it. See docs/releasing.md.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Refusal, git, main, parseLine, refuseIfDirty, releaseBranch, root } from './workspace.mjs';

const COMMAND = 'release:cut';
const USAGE = 'usage: pnpm release:cut X.Y';

main(COMMAND, () => {
  const line = parseLine(process.argv[2], USAGE);
  const branch = releaseBranch(line);
  refuseIfDirty();
  if (git('branch', '--list', branch)) throw new Refusal(`branch ${branch} already exists`);
  const tag = highestTag(line);
  if (!tag) throw new Refusal(`no v${line}.* tag: release ${line}.0 from main (pnpm release:publish) before cutting its line`);

  git('switch', '--quiet', '--create', branch, tag);
  const configFile = path.join(root, '.changeset', 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  config.baseBranch = branch;
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  git('commit', '--quiet', '--all', '--message', `Cut ${branch} from ${tag}\n\nchangesets' baseBranch is ${branch} on this branch only.`);
  console.log(`${COMMAND}: created ${branch} from ${tag} and switched to it; push it with: git push -u origin ${branch}`);
});

/** The vX.Y.Z tag with the highest Z, ignoring prerelease tags. */
function highestTag(line) {
  const pattern = new RegExp(`^v${line.replace('.', '\\.')}\\.(\\d+)$`);
  const patches = git('tag', '--list', `v${line}.*`).split('\n')
    .map((t) => pattern.exec(t)?.[1])
    .filter((z) => z !== undefined)
    .map(Number);
  return patches.length ? `v${line}.${Math.max(...patches)}` : null;
}
