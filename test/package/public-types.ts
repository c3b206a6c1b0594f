import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * The published declarations as a TypeScript user sees them: every subpath of
 * package.json `exports`, what each exports, and every declaration of this
 * package those reach (through type references), read from dist/lib's .d.ts.
 */
export interface AnyUse {
  /** `sequelize-apartment/express`: apartmentMiddleware(apartment, options).req */
  where: string;
  file: string;
  line: number;
}

export function entryPoints(root: string): Array<{ subpath: string; file: string }> {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const out: Array<{ subpath: string; file: string }> = [];
  for (const [subpath, target] of Object.entries<any>(pkg.exports ?? {})) {
    const types = typeof target === 'object' ? (target.types ?? target.require?.types ?? target.import?.types) : undefined;
    if (typeof types === 'string' && types.endsWith('.d.ts')) out.push({ subpath: path.posix.join('sequelize-apartment', subpath), file: path.join(root, types) });
  }
  return out;
}

/** Every `any` written in a declaration reachable from the public entry points. */
export function publicAnys(root: string): { anys: AnyUse[]; declarations: number; classMembers: Map<string, string[]> } {
  const entries = entryPoints(root);
  const program = ts.createProgram(entries.map((e) => e.file), { noEmit: true, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  const own = path.join(root, 'dist', 'lib') + path.sep;
  const seen = new Set<ts.Node>();
  const queue: Array<{ node: ts.Declaration; name: string }> = [];
  const anys: AnyUse[] = [];
  const classMembers = new Map<string, string[]>();

  const enqueue = (symbol: ts.Symbol | undefined, name: string) => {
    if (!symbol) return;
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    for (const decl of symbol.declarations ?? []) {
      if (!decl.getSourceFile().fileName.startsWith(own) || seen.has(decl)) continue;
      seen.add(decl);
      queue.push({ node: decl, name });
    }
  };
  for (const entry of entries) {
    const source = program.getSourceFile(entry.file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`${entry.file}: not found; run npm run build first`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) enqueue(exported, `${entry.subpath}: ${exported.name}`);
  }
  while (queue.length) {
    const { node, name } = queue.shift()!;
    if (ts.isClassDeclaration(node)) {
      classMembers.set(name, node.members.map((m) => (m.name ? m.name.getText() : ts.SyntaxKind[m.kind])));
    }
    const visit = (n: ts.Node, where: string) => {
      if (n.kind === ts.SyntaxKind.AnyKeyword) {
        const { line } = n.getSourceFile().getLineAndCharacterOfPosition(n.getStart());
        anys.push({ where, file: path.relative(root, n.getSourceFile().fileName), line: line + 1 });
      }
      if (ts.isTypeReferenceNode(n) || ts.isExpressionWithTypeArguments(n) || ts.isTypeQueryNode(n)) {
        const target = ts.isTypeReferenceNode(n) ? n.typeName : ts.isTypeQueryNode(n) ? n.exprName : n.expression;
        enqueue(checker.getSymbolAtLocation(target), target.getText());
      }
      const child = (n as ts.NamedDeclaration).name && n !== node && (ts.isPropertySignature(n) || ts.isMethodSignature(n) || ts.isPropertyDeclaration(n) || ts.isMethodDeclaration(n) || ts.isParameter(n))
        ? `${where}.${(n as ts.NamedDeclaration).name!.getText()}`
        : where;
      ts.forEachChild(n, (c) => visit(c, child));
    };
    visit(node, name);
  }
  return { anys, declarations: seen.size, classMembers };
}
