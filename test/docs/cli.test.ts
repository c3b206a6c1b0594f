import { tableCells } from './api-facts';
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { program } from '../../lib/cli';
import { apartmentModule } from '../../lib/cli/app';
import { ROOT } from '../support/paths';
import { markdownFiles } from '../support/markdown';

/**
 * docs/reference/cli.md against what lib/cli registers: every command in the
 * Commands table and the reverse; every flag in the Flags table and the
 * reverse; a command's own flag must name that command in its row's
 * "Applies to" cell, and a global flag's row must say "all".
 */

const PAGE = 'docs/reference/cli.md';

/** Each list of flags a page says are refused next to `--apartment` ("`--url`, `--env` and `--prefix` are refused next to it"), sorted. */
export function refusedLists(markdown: string): string[][] {
  return [...markdown.matchAll(/((?:`--[\w-]+`(?:,? and |, | or )?)+) (?:are|is) refused next to/g)].map((m) => [...m[1]!.matchAll(/`(--[\w-]+)`/g)].map((f) => f[1]!).sort());
}

/** The cells of the table under `## <heading>`, first row (the header) and separator left out. */
export function tableRows(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start === -1) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,2} /.test(line)) break;
    if (!line.startsWith('|')) {
      if (rows.length) break;
      continue;
    }
    rows.push(tableCells(line));
  }
  return rows.slice(2);
}

interface Registered {
  commands: string[];
  global: string[];
  /** flag -> the commands that register it as their own option */
  own: Map<string, string[]>;
}

export function registered(cli: Command = program()): Registered {
  const longs = (cmd: Command) => cmd.options.map((o) => o.long!).filter((f) => f && f !== '--version' && f !== '--help');
  const own = new Map<string, string[]>();
  for (const cmd of cli.commands) for (const flag of longs(cmd)) own.set(flag, [...(own.get(flag) ?? []), cmd.name()]);
  return { commands: cli.commands.map((c) => c.name()), global: longs(cli), own };
}

/** The commands a "Applies to" cell names, before its first explanation (`: ...` or ` (...)`); `db:seed*` is a prefix. */
function appliesTo(cell: string, commands: string[]): string[] | 'all' {
  if (/^all\b/.test(cell)) return 'all';
  const head = cell.split(/: | \(/)[0]!;
  const named = [...head.matchAll(/`([a-z]+:[\w:*-]*)`/g)].map((m) => m[1]!);
  return commands.filter((c) => named.some((n) => (n.endsWith('*') ? c.startsWith(n.slice(0, -1)) : c === n)));
}

/** Everything that differs between the page and the CLI, each message saying what to add where. */
export function differences(markdown: string, cli: Registered): string[] {
  const out: string[] = [];
  const documentedCommands = tableRows(markdown, 'Commands').map((cells) => /^`([a-z]+(?::[a-z-]+)*)/.exec(cells[0] ?? '')?.[1]).filter((c): c is string => !!c);
  for (const c of cli.commands) {
    if (!documentedCommands.includes(c)) out.push(`${PAGE}: command \`${c}\` is registered (lib/cli) but not documented: add a row \`| \`${c} ...\` | what it does |\` to the table under "## Commands".`);
  }
  for (const c of new Set(documentedCommands)) {
    if (!cli.commands.includes(c)) out.push(`${PAGE}: command \`${c}\` is documented under "## Commands" but lib/cli registers no such command: remove its row, or register it.`);
  }

  const rows = tableRows(markdown, 'Flags').map((cells) => ({ flags: [...(cells[0] ?? '').matchAll(/`(--[\w-]+)/g)].map((m) => m[1]!), applies: cells[2] ?? '' }));
  const documented = new Map<string, Array<string[] | 'all'>>();
  for (const row of rows) for (const f of row.flags) documented.set(f, [...(documented.get(f) ?? []), appliesTo(row.applies, cli.commands)]);
  const all = new Set([...cli.global, ...cli.own.keys()]);
  for (const flag of all) {
    const where = cli.global.includes(flag) ? 'every command (a global option)' : cli.own.get(flag)!.map((c) => `\`${c}\``).join(', ');
    const rowsOf = documented.get(flag);
    if (!rowsOf) {
      out.push(`${PAGE}: flag \`${flag}\` is registered for ${where} but not documented: add a row \`| \`${flag} <value>\` | default | ${cli.global.includes(flag) ? 'all' : where} |\` to the table under "## Flags".`);
      continue;
    }
    if (cli.global.includes(flag)) {
      if (!rowsOf.includes('all')) out.push(`${PAGE}: flag \`${flag}\` is a global option (every command accepts it): its "Applies to" cell under "## Flags" must start with "all".`);
      continue;
    }
    const covered = new Set(rowsOf.flatMap((r) => (r === 'all' ? cli.commands : r)));
    for (const c of cli.own.get(flag)!) {
      if (!covered.has(c)) out.push(`${PAGE}: flag \`${flag}\` is registered for \`${c}\`, but its row under "## Flags" does not name \`${c}\` in "Applies to": add \`${c}\` there.`);
    }
    for (const c of covered) {
      if (!cli.own.get(flag)!.includes(c)) out.push(`${PAGE}: flag \`${flag}\`'s row under "## Flags" names \`${c}\` in "Applies to", but \`${c}\` does not register it: remove \`${c}\` from that cell, or register the flag.`);
    }
  }
  for (const flag of documented.keys()) {
    if (!all.has(flag)) out.push(`${PAGE}: flag \`${flag}\` is documented under "## Flags" but no command registers it (lib/cli): remove its row, or register it.`);
  }
  return out;
}

describe('docs/reference/cli.md against the CLI', () => {
  const markdown = fs.readFileSync(path.join(ROOT, PAGE), 'utf8');

  it('documents every command and flag the CLI registers, and nothing else', () => {
    const cli = registered();
    expect(cli.commands.length).to.be.greaterThan(10);
    const found = differences(markdown, cli);
    expect(found, `\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
  });

  it('lists exactly the flags refused next to --apartment', () => {
    const cli = program();
    // Every global flag set at once: the error names those --apartment replaces.
    const flags = Object.fromEntries(cli.options.filter((o) => o.long !== '--apartment').map((o) => [o.attributeName(), 'x']));
    let message = '';
    try {
      apartmentModule(ROOT, { ...flags, apartment: './db.js' }, {});
    } catch (error) {
      message = (error as Error).message;
    }
    const refused = /^(.*) cannot be combined/.exec(message)?.[1]?.split(', ').sort();
    expect(refused, message).to.not.equal(undefined);
    const row = tableRows(markdown, 'Flags').find((cells) => cells[0]?.startsWith('`--apartment '));
    const documented = [...(/not combinable with ([^|;]*)/.exec(row?.[2] ?? '')?.[1] ?? '').matchAll(/`(--[\w-]+)`/g)].map((m) => m[1]).sort();
    expect(documented, `${PAGE}: the --apartment row under "## Flags" must say "not combinable with" exactly ${refused!.join(', ')}`).to.deep.equal(refused);
    // And every sentence of README.md and docs/ that lists them ("`--url`, ... and `--distribute` are refused next to it").
    for (const file of markdownFiles()) {
      for (const list of refusedLists(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
        expect(list, `${file}: a list of the flags refused next to --apartment must name exactly ${refused!.join(', ')}`).to.deep.equal(refused);
      }
    }
    expect(refusedLists('`--url`, `--env` and `--prefix` are refused next to it')).to.deep.equal([['--env', '--prefix', '--url']]);
  });

  it('catches drift (the checker itself can fail)', () => {
    const page = [
      '## Commands',
      '',
      '| Command | What |',
      '|---|---|',
      '| `a:b <key>` | x |',
      '| `gone:cmd` | y |',
      '',
      '## Flags',
      '',
      '| Flag | Default | Applies to |',
      '|---|---|---|',
      '| `--json` | off | all |',
      '| `--tenant <key>` | every | `a:b`: text (not `c:d`) |',
      '| `--old` | off | `a:b` |',
    ].join('\n');
    const cli: Registered = { commands: ['a:b', 'c:d'], global: ['--json', '--url'], own: new Map([['--tenant', ['a:b', 'c:d']]]) };
    const found = differences(page, cli);
    expect(found).to.have.length(5);
    expect(found.join('\n')).to.contain('command `c:d` is registered').and.contain('command `gone:cmd` is documented')
      .and.contain('flag `--url` is registered for every command').and.contain("does not name `c:d` in \"Applies to\": add `c:d` there")
      .and.contain('flag `--old` is documented');
  });
});
