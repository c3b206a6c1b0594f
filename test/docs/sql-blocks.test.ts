import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sequelize } from 'sequelize';
import { describeDialects } from '../support/dialects';
import { blocks, markdownFiles } from '../support/markdown';
import { ROOT } from '../support/paths';

/**
 * Every ```sql block of README.md and docs/ names its server (```sql postgres,
 * ```sql mysql: test/readme.test.ts) and that server parses it. Parsed, not
 * run: the tables a block names need not exist. PostgreSQL compiles it as the
 * body of a PL/pgSQL function in a transaction that is rolled back (PL/pgSQL's
 * validator runs the server's own parser on every statement; names are only
 * resolved when the function runs, which it never does); MariaDB parses it as
 * the body of a stored procedure that is dropped again (names are resolved
 * when it is called, which it never is).
 */

interface SqlBlock {
  where: string;
  sql: string;
}

function sqlBlocks(dialect: string): SqlBlock[] {
  return markdownFiles().flatMap((file) =>
    blocks(fs.readFileSync(path.join(ROOT, file), 'utf8'), file)
      .filter((b) => b.lang === 'sql' && b.info === dialect)
      .map((b) => ({ where: `${file}:${b.line}`, sql: b.content })),
  );
}

/** The statements, the last one terminated (a block may leave out its final `;`). */
function terminated(sql: string): string {
  const code = sql.replace(/\/\*[\s\S]*?\*\//g, '').replace(/--[^\n]*/g, '').trim();
  return code.endsWith(';') ? sql : `${sql};`;
}

/** Undefined when the server parses `sql`, or the server's error message. */
export async function parseError(sequelize: Sequelize, sql: string): Promise<string | undefined> {
  if (sequelize.getDialect() === 'postgres') {
    const transaction = await sequelize.transaction();
    try {
      await sequelize.query(`CREATE FUNCTION pg_temp.apartment_doc_sql() RETURNS void LANGUAGE plpgsql AS $apartment_doc$\nBEGIN\n${terminated(sql)}\nEND\n$apartment_doc$`, { transaction });
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await transaction.rollback();
    }
  }
  const name = `apartment_doc_sql_${process.pid}`;
  try {
    await sequelize.query(`CREATE PROCEDURE \`${name}\`()\nBEGIN\n${terminated(sql)}\nEND`);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await sequelize.query(`DROP PROCEDURE IF EXISTS \`${name}\``);
  }
}

describeDialects(
  'SQL blocks of README.md and docs/ parse on their server',
  (d) => {
    const dialect = d.name === 'postgres' ? 'postgres' : 'mysql';
    let sequelize: Sequelize;
    before(() => {
      sequelize = d.sequelize();
    });

    it(`every \`\`\`sql ${dialect} block`, async () => {
      const found: string[] = [];
      for (const block of sqlBlocks(dialect)) {
        const error = await parseError(sequelize, block.sql);
        if (error) found.push(`${block.where}: ${d.name} does not parse it: ${error}`);
      }
      expect(found, `\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
    });

    it('refuses what the server would refuse, and names no table it needs (the check itself can fail)', async () => {
      expect(await parseError(sequelize, 'SELEC 1')).to.be.a('string');
      const other = dialect === 'postgres' ? 'SELECT `id` FROM `tenant_acme`.`widgets`' : 'SELECT "id" FROM "tenant_acme"."widgets"';
      expect(await parseError(sequelize, other), other).to.be.a('string');
      const own = dialect === 'postgres' ? 'SELECT "id" FROM "no_such_schema"."widgets"; /* tenant=\'acme\' */' : 'SELECT `id` FROM `no_such_db`.`widgets`; /* tenant=\'acme\' */';
      expect(await parseError(sequelize, own)).to.equal(undefined);
    });
  },
  ['postgres', 'mysql'],
);
