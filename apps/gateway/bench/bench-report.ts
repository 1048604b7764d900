/**
 * Writes one benchmark's results into the repository's BENCHMARKS.md, replacing the previous
 * section of the same title, with the date and the command that produced it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../BENCHMARKS.md');

export function replaceBenchSection(title: string, command: string, body: string): void {
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const heading = `## ${title}`;
  const section = `${heading}\n\nMeasured ${new Date().toISOString().slice(0, 10)} with \`${command}\` (Node ${process.version}).\n\n${body.trim()}\n`;
  const start = text.indexOf(heading + '\n');
  let next: string;
  if (start < 0) {
    next = text.trimEnd() + '\n\n' + section;
  } else {
    const after = text.indexOf('\n## ', start + heading.length);
    // Keep one blank line between this section and the next heading.
    next = text.slice(0, start) + section + (after < 0 ? '' : '\n' + text.slice(after + 1));
  }
  writeFileSync(FILE, next.endsWith('\n') ? next : next + '\n');
}
