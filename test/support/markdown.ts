import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './paths';

/** The generated API reference (`npm run docs`), left out of the hand-written pages' checks. */
export const API_DIR = 'docs/reference/api';

/** README.md, CONTRIBUTING.md and every Markdown page under docs/ except the generated API reference, repository-relative. */
export function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) return rel === API_DIR ? [] : walk(rel);
      return e.name.endsWith('.md') ? [rel] : [];
    });
  return ['README.md', 'CONTRIBUTING.md', ...walk('docs')].filter((f) => fs.existsSync(path.join(ROOT, f)));
}

/** GitHub's anchor for a heading. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Relative links (and their #anchors) that lead nowhere, one message each. */
export function brokenLinks(file: string, markdown: string): string[] {
  const out: string[] = [];
  const withoutCode = markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, '');
  for (const m of withoutCode.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
    const [rel, anchor] = target.split('#');
    const absolute = rel ? path.resolve(path.dirname(path.join(ROOT, file)), rel) : path.join(ROOT, file);
    if (!fs.existsSync(absolute)) {
      out.push(`${file}: link (${target}) points to ${path.relative(ROOT, absolute)}, which does not exist`);
      continue;
    }
    if (anchor && absolute.endsWith('.md')) {
      const headings = fs.readFileSync(absolute, 'utf8').split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, '')));
      if (!headings.includes(anchor)) out.push(`${file}: link (${target}): ${path.relative(ROOT, absolute)} has no heading #${anchor} (it has: ${headings.join(', ')})`);
    }
  }
  return out;
}

/** A fenced code block of a Markdown page. */
export interface Block {
  line: number; // 1-based line of the opening fence
  lang: string;
  /** The rest of the info string after the language (```sql postgres: 'postgres'). */
  info: string;
  content: string;
  marker: string | undefined; // the line just before the fence
  section: string | undefined;
}

/** Every fenced code block of a page, in order. */
export function blocks(markdown: string, file = 'README.md'): Block[] {
  const lines = markdown.split('\n');
  const found: Block[] = [];
  let section: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const open = /^<!-- section:([\w-]+) -->/.exec(lines[i]);
    if (open) section = open[1];
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/.exec(lines[i]);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim().startsWith(fence[2]) && l.trim().replace(/[`~]/g, '') === '');
    if (end === -1) throw new Error(`${file}:${i + 1}: code block is never closed`);
    found.push({ line: i + 1, lang: fence[3].toLowerCase(), info: fence[4].trim(), content: lines.slice(i + 1, end).join('\n'), marker: i > 0 ? lines[i - 1] : undefined, section });
    i = end;
  }
  return found;
}
