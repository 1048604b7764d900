// pnpm release:backport X.Y <commit>… — cherry-picks fixes from main onto release-X.Y, keeps the
// changesets they carry as patches, versions the line and commits "Release X.Y.Z". Any failure
// leaves release-X.Y where it was. See docs/releasing.md.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  Refusal, currentBranch, git, inLine, main, parseLine, pendingChangesets, publicPackages, refuseIfDirty,
  releaseBranch, root, run, sharedVersion,
} from './workspace.mjs';

const COMMAND = 'release:backport';
const USAGE = 'usage: pnpm release:backport X.Y <commit>…';

main(COMMAND, () => {
  const line = parseLine(process.argv[2], USAGE);
  const refs = process.argv.slice(3);
  if (refs.length === 0) throw new Refusal(`name at least one commit to backport\n${USAGE}`);
  const branch = releaseBranch(line);
  refuseIfDirty();
  if (!git('branch', '--list', branch)) throw new Refusal(`no branch ${branch}; cut it first with pnpm release:cut ${line}`);
  // Resolved before switching, so that names like HEAD~1 mean what they meant where the user stood.
  const commits = refs.map((ref) => {
    try {
      return git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
    } catch {
      throw new Refusal(`'${ref}' is not a commit`);
    }
  });

  if (currentBranch() !== branch) {
    git('switch', '--quiet', branch);
    console.log(`${COMMAND}: switched to ${branch}`);
  }
  const start = git('rev-parse', 'HEAD');
  try {
    for (const commit of commits) cherryPick(commit, branch);
    keepChangesetsAsPatches(commits);
    try {
      run('pnpm', ['exec', 'changeset', 'version']);
    } catch (err) {
      throw new Refusal(`changeset version failed:\n${err.stderr || err.stdout || err.message}`);
    }
    const version = sharedVersion(publicPackages());
    if (!inLine(version, line)) throw new Refusal(`versioning gave ${version}, which is outside the ${line} line`);
    git('add', '--all');
    const picked = commits.map((c) => `  ${c.slice(0, 12)} ${git('log', '-1', '--format=%s', c)}`).join('\n');
    git('commit', '--quiet', '--message', `Release ${version}\n\nBackports:\n${picked}`);
    console.log(`${COMMAND}: ${branch} is at ${version} with ${commits.length} backported commit(s); publish with pnpm release:publish, then git push origin ${branch}`);
  } catch (err) {
    git('reset', '--quiet', '--hard', start);
    if (err instanceof Refusal) throw new Refusal(`${err.message}\n${branch} is unchanged (at ${start.slice(0, 12)}).`);
    throw err;
  }
});

/** `git cherry-pick -x`; on a conflict, aborts and says which commit and files conflicted. */
function cherryPick(commit, branch) {
  try {
    git('cherry-pick', '-x', commit);
  } catch (err) {
    const conflicted = git('diff', '--name-only', '--diff-filter=U');
    try {
      git('cherry-pick', '--abort');
    } catch {
      // nothing in progress to abort (e.g. the commit was refused before it started)
    }
    const subject = git('log', '-1', '--format=%s', commit);
    const reason = conflicted ? `conflicts in:\n  ${conflicted.split('\n').join('\n  ')}` : (err.stderr || err.message).trim();
    throw new Refusal(`commit ${commit.slice(0, 12)} "${subject}" does not apply to ${branch}: ${reason}`);
  }
}

/**
 * A release line takes patches only: minor bumps in the line's pending changesets become patch,
 * a major one refuses. With none at all there is nothing to release.
 */
function keepChangesetsAsPatches(commits) {
  const files = pendingChangesets();
  if (files.length === 0) {
    throw new Refusal(`none of ${commits.map((c) => c.slice(0, 12)).join(', ')} carries a changeset, so there is nothing to release; add a patch changeset for the fix on main (pnpm changeset), commit it, and backport that commit too`);
  }
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const front = /^---\n([\s\S]*?)\n---/.exec(text);
    if (!front) throw new Refusal(`${path.relative(root, file)} is not a changeset (no front matter)`);
    if (/:\s*major\s*$/m.test(front[1])) {
      throw new Refusal(`${path.relative(root, file)} is a major change; a release line takes patches only`);
    }
    const patched = front[1].replace(/:\s*minor\s*$/gm, ': patch');
    if (patched !== front[1]) writeFileSync(file, text.replace(front[1], patched));
  }
}
