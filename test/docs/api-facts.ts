import * as fs from 'node:fs';
import * as ts from 'typescript';

/** What a public method of a class declares: its return types as written (one per overload) and the errors its `@throws` tags name. */
export interface MethodFacts {
  returns: string[];
  throws: string[];
}

const ERROR = /\b[A-Z]\w*Error\b/g;

/** The errors a text names (`TenantNameError`, ...), sorted, once each. */
export function errorNames(text: string): string[] {
  return [...new Set(text.match(ERROR) ?? [])].sort();
}

/** Every public method of `className` in `file`, read from its source (declaration and TSDoc), without a program. */
export function methodFacts(file: string, className: string): Map<string, MethodFacts> {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = new Map<string, MethodFacts>();
  const visit = (node: ts.Node) => {
    if (ts.isClassDeclaration(node) && node.name?.text === className) {
      for (const member of node.members) {
        if (!ts.isMethodDeclaration(member) || !member.name || ts.isPrivateIdentifier(member.name)) continue;
        const modifiers = ts.getCombinedModifierFlags(member);
        if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        const name = member.name.getText(source);
        const throws = ts.getJSDocTags(member).filter((t) => t.tagName.text === 'throws').map((t) => ts.getTextOfJSDocComment(t.comment) ?? '');
        const known = found.get(name); // overloads: every signature's return type (and the implementation's)
        found.set(name, {
          returns: [...(known?.returns ?? []), member.type ? member.type.getText(source).replace(/\s+/g, ' ') : ''],
          throws: errorNames([...(known?.throws ?? []), ...throws].join(' ')),
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The rows of the first Markdown table in `markdown`, as cells (header and separator left out). */
export function firstTable(markdown: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    rows.push(tableCells(line));
  }
  return rows.slice(2);
}

export interface TableDrift {
  method: string;
  problem: string;
}

/**
 * A method table (`| method | returns | throws |`, docs/reference/apartment.md)
 * against the class: every method the first cell names must exist; a returns
 * cell that opens with `` `Promise<X>` `` must be a declared return type
 * (a row of several methods: its i-th `` `Promise<X>` `` is the i-th method's);
 * the errors the throws cell names must be those of the method's `@throws`.
 */
export function tableDrift(markdown: string, methods: Map<string, MethodFacts>, page: string): TableDrift[] {
  const out: TableDrift[] = [];
  for (const [names, returns = '', throws = ''] of firstTable(markdown)) {
    const named = [...(names ?? '').matchAll(/`(\w+)\(/g)].map((m) => m[1]!);
    const cell = returns.replace(/\\\|/g, '|');
    // One method: the cell's leading `Promise<X>`. Several (`a()`, `b()`): the i-th `Promise<X>` is the i-th method's.
    const spans = named.length === 1 ? [/^\[?`(Promise<[^`]*>)`/.exec(cell)?.[1]] : [...cell.matchAll(/`(Promise<[^`]*>)`/g)].map((m) => m[1]);
    for (const [i, method] of named.entries()) {
      const facts = methods.get(method);
      if (!facts) {
        out.push({ method, problem: `${page} documents ${method}(), which the class does not have` });
        continue;
      }
      const promised = spans[i];
      if (promised && !facts.returns.includes(promised.replace(/\s+/g, ' '))) {
        out.push({ method, problem: `${page}: ${method}() is documented to return ${promised}; it is declared to return ${facts.returns.join(' or ')}` });
      }
      const documented = errorNames(throws);
      if (documented.join() !== facts.throws.join()) {
        out.push({ method, problem: `${page}: ${method}() is documented to throw [${documented.join(', ')}]; its TSDoc @throws names [${facts.throws.join(', ')}] (make the two say the same)` });
      }
    }
  }
  return out;
}

/** Every property of interface `name` in `file` and its `@default` (undefined without one), read from the source. */
export function propertyDefaults(file: string, name: string): Map<string, string | undefined> {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = new Map<string, string | undefined>();
  ts.forEachChild(source, (node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== name) return;
    for (const member of node.members) {
      if (!member.name) continue;
      const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
      found.set(member.name.getText(source), tag ? (ts.getTextOfJSDocComment(tag.comment) ?? '').trim() : undefined);
    }
  });
  return found;
}

/**
 * An options table (`| option | default | meaning |`, docs/reference/options.md)
 * against the interface: the same options both ways, and where the default
 * cell opens with a code span, it is the first word of the option's `@default`.
 */
export function optionsDrift(markdown: string, defaults: Map<string, string | undefined>, page: string, iface: string): string[] {
  const out: string[] = [];
  const rows = firstTable(markdown).filter((cells) => /^`\w+`$/.test(cells[0] ?? ''));
  const documented = new Set(rows.map((cells) => cells[0]!.slice(1, -1)));
  for (const option of defaults.keys()) if (!documented.has(option)) out.push(`${page}: ${iface}.${option} has no row`);
  for (const [cell, def = ''] of rows) {
    const option = cell!.slice(1, -1);
    if (!defaults.has(option)) {
      out.push(`${page}: \`${option}\` is not an option of ${iface}`);
      continue;
    }
    const shown = /^`([^`]*)`/.exec(def)?.[1];
    const declared = defaults.get(option)?.split(/\s/)[0];
    if (shown !== undefined && shown !== declared) out.push(`${page}: \`${option}\` defaults to ${shown} on the page, to ${declared ?? '(no @default)'} in its TSDoc`);
  }
  return out;
}

/** The cells of one Markdown table row, split on `|` that is not escaped (`\\|`) and not inside backticks. */
export function tableCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let code = false;
  for (let i = 1; i < line.length; i++) {
    const c = line[i]!;
    if (c === '`') code = !code;
    if (c === '|' && line[i - 1] !== '\\' && !code) {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  return cells;
}
