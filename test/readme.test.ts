import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { program } from '../lib/cli';
import { API_DIR, blocks, brokenLinks, markdownFiles } from './support/markdown';
import { ROOT } from './support/paths';

/**
 * The code-block convention of README.md and every page under docs/ (docs
 * cannot drift from code that runs):
 * - every ```ts / ```js block is immediately preceded by
 *   `<!-- snippet: examples/readme/<file>.ts -->` or `...#<region>` (or a
 *   file of the test kit's runner examples, `examples/testing/`), and its
 *   content equals that file, or the lines between `// #region <name>` and
 *   `// #endregion <name>` with their common indentation removed;
 * - in ```sh blocks every `npm run <x>` is a package.json script and every
 *   `npx apartment <command>` is a command of the CLI;
 * - ```json blocks parse;
 * - ```sql blocks name their dialect (```sql postgres, ```sql mysql), and
 *   test/docs/sql-blocks.test.ts has the real server parse them;
 * - ```text blocks (output, layouts, messages) are allowed, and said so;
 * - every block carries one of these languages: no bare ``` fence.
 */

const CODE = new Set(['ts', 'typescript', 'js', 'javascript', 'tsx', 'jsx', 'mjs', 'cjs']);
const SHELL = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);
const SQL_DIALECTS = ['postgres', 'mysql'];
const LANGUAGES = [...CODE, ...SHELL, 'json', 'sql', 'text'];
const MARKER = /^<!-- snippet: (examples\/(?:readme|testing)\/[\w./-]+\.(?:ts|js|mjs))(?:#([\w-]+))? -->$/;
/** The CLI's commands as issue 3 names them, used until lib/cli declares its own. */
const ISSUE_COMMANDS = ['tenant:create', 'tenant:drop', 'tenant:list', 'db:migrate', 'db:migrate:undo', 'db:migrate:status', 'migration:generate'];

/** The lines between `// #region name` and `// #endregion name`, common indentation removed. */
export function region(text: string, name: string): string | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  if (start === -1) return undefined;
  const end = lines.findIndex((l, j) => j > start && l.trim() === `// #endregion ${name}`);
  if (end === -1) return undefined;
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return body.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

function cliCommands(): { names: string[]; source: string } {
  // The commands the real program registers (some live in files of their own, e.g. lib/cli/seed.ts).
  const names = program().commands.map((c) => c.name());
  if (names.length) return { names, source: 'lib/cli/index.ts' };
  return { names: ISSUE_COMMANDS, source: 'issue 3 (lib/cli has no commands yet)' };
}

/** Everything wrong with one Markdown file's code blocks, one message per problem, naming the block. */
export function problems(markdown: string, file = 'README.md'): string[] {
  const out: string[] = [];
  const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts ?? {});
  const cli = cliCommands();
  for (const block of blocks(markdown, file)) {
    const where = `${file}:${block.line} (\`\`\`${block.lang || '(no language)'} block${block.section ? ` in section '${block.section}'` : ''})`;
    if (CODE.has(block.lang)) {
      const marker = block.marker === undefined ? undefined : MARKER.exec(block.marker.trim());
      if (!marker) {
        out.push(`${where}: the line before it must be <!-- snippet: examples/readme/<file>.ts[#region] -->, found ${JSON.stringify(block.marker ?? '')}`);
        continue;
      }
      const [, snippet, name] = marker;
      const absolute = path.join(ROOT, snippet);
      if (!fs.existsSync(absolute)) {
        out.push(`${where}: snippet file ${snippet} does not exist`);
        continue;
      }
      const text = fs.readFileSync(absolute, 'utf8');
      const expected = name === undefined ? text.replace(/\n+$/, '') : region(text, name);
      if (expected === undefined) {
        out.push(`${where}: ${snippet} has no region '${name}' (// #region ${name} ... // #endregion ${name})`);
        continue;
      }
      if (block.content !== expected) {
        const a = block.content.split('\n');
        const b = expected.split('\n');
        const at = a.findIndex((l, k) => l !== b[k]);
        const k = at === -1 ? Math.min(a.length, b.length) : at;
        out.push(
          `${where}: differs from ${snippet}${name ? `#${name}` : ''} at its line ${k + 1}: the page has ${JSON.stringify(a[k] ?? '(end)')}, the file has ${JSON.stringify(b[k] ?? '(end)')}`,
        );
      }
    } else if (!block.lang || !LANGUAGES.includes(block.lang)) {
      out.push(`${where}: ${block.lang ? `\`${block.lang}\` is not a language the docs' checks know` : 'a code block needs a language'}: ts/js (from a snippet file), sh, json, sql postgres|mysql, or text for output and anything else`);
    } else if (block.lang === 'json') {
      try {
        JSON.parse(block.content);
      } catch (error) {
        out.push(`${where}: does not parse as JSON (${(error as Error).message})`);
      }
    } else if (block.lang === 'sql') {
      if (!SQL_DIALECTS.includes(block.info)) out.push(`${where}: say which server it is for: \`\`\`sql postgres or \`\`\`sql mysql (the server parses it: test/docs/sql-blocks.test.ts), found ${JSON.stringify(block.info)}`);
    } else if (SHELL.has(block.lang)) {
      for (const m of block.content.matchAll(/\bnpm run(?:-script)? +([\w:.-]+)/g)) {
        if (!scripts.includes(m[1])) out.push(`${where}: \`npm run ${m[1]}\` is not a script in package.json (scripts: ${scripts.join(', ')})`);
      }
      for (const m of block.content.matchAll(/\bnpx +apartment +([^\s|;&]+)/g)) {
        if (m[1].startsWith('-')) continue; // --help, --version
        if (!cli.names.includes(m[1])) out.push(`${where}: \`npx apartment ${m[1]}\` is not a CLI command (commands from ${cli.source}: ${cli.names.join(', ')})`);
      }
    }
  }
  return out;
}

describe('README and docs/ code blocks', () => {
  const files = markdownFiles();

  it('cover README.md and the pages under docs/', () => {
    expect(files).to.include('README.md');
    expect(files.filter((f) => f.startsWith('docs/')).length).to.be.greaterThan(10);
  });

  it('follow the snippet convention, and shell commands exist', () => {
    const found = files.flatMap((file) => problems(fs.readFileSync(path.join(ROOT, file), 'utf8'), file));
    expect(found, `\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
  });

  it('relative links lead to files and headings that exist', () => {
    const found = files.flatMap((file) => brokenLinks(file, fs.readFileSync(path.join(ROOT, file), 'utf8')));
    expect(found, `\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
    expect(brokenLinks('README.md', '[a](docs/nope.md) [b](README.md#no-such-heading) [c](#example)')).to.have.length(2);
  });

  it('the docs index links every page under docs/ (the API reference by its index), and the README every guide', () => {
    const linked = (file: string) =>
      new Set(
        [...fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)]
          .filter((m) => !/^[a-z]+:/i.test(m[1]!))
          .map((m) => path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), m[1]!)).split(path.sep).join('/')),
      );
    const pages = [...files.filter((f) => f.startsWith('docs/') && f !== 'docs/README.md'), `${API_DIR}/README.md`];
    const index = linked('docs/README.md');
    expect(pages.filter((p) => !index.has(p)), 'docs/README.md must link these pages').to.deep.equal([]);
    const readme = linked('README.md');
    expect(pages.filter((p) => p.startsWith('docs/guides/') && !readme.has(p)), "README.md's Documentation section must link these guides").to.deep.equal([]);
  });

  it('catches drift (the checker itself can fail)', () => {
    const bad = [
      '<!-- section:x -->',
      '```ts',
      'const unmarked = 1;',
      '```',
      '<!-- snippet: examples/readme/quickstart.ts#setup -->',
      '```ts',
      'const drifted = true;',
      '```',
      '<!-- snippet: examples/readme/quickstart.ts#nope -->',
      '```ts',
      '```',
      '```sh',
      'npm run no-such-script && npx apartment no:such-command && npx apartment tenant:list',
      '```',
      '```',
      'untagged',
      '```',
      '```yaml',
      'a: 1',
      '```',
      '```json',
      '{ "a": 1, }',
      '```',
      '```sql',
      'SELECT 1;',
      '```',
      '```json',
      '{ "a": [1] }',
      '```',
      '```sql mysql',
      'SELECT 1;',
      '```',
      '```text',
      'anything',
      '```',
    ].join('\n');
    const found = problems(bad);
    expect(found).to.have.length(9);
    expect(found[5]).to.match(/README\.md:15 .*a code block needs a language/);
    expect(found[6]).to.match(/`yaml` is not a language/);
    expect(found[7]).to.match(/does not parse as JSON/);
    expect(found[8]).to.match(/sql postgres or .*sql mysql/);
    expect(found[0]).to.match(/README\.md:2 .*section 'x'.*the line before it must be/);
    expect(found[1]).to.match(/README\.md:6 .*differs from examples\/readme\/quickstart\.ts#setup at its line 1/);
    expect(found[2]).to.match(/has no region 'nope'/);
    expect(found[3]).to.match(/npm run no-such-script/);
    expect(found[4]).to.match(/npx apartment no:such-command/);
  });

  it('region() removes common indentation', () => {
    expect(region('x\n  // #region a\n    one\n      two\n  // #endregion a\n', 'a')).to.equal('one\n  two');
  });
});
