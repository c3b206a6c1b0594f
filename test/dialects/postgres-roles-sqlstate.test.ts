import { expect } from 'chai';
import { ConfigurationError, CrossTenantError, NoTenantError } from 'sequelize-apartment';
import { PostgresRoles } from '../../lib/dialects/postgres-roles';
import { TenantNames } from '../../lib/tenant';

/**
 * `isolation: 'role'` translates what the database refused by SQLSTATE, the
 * statement and the catalog, never by the message: these are the driver
 * errors a server with `lc_messages = 'de_DE.UTF-8'` sends (PostgreSQL 15's
 * German catalog), as node-postgres hands them over (a `DatabaseError` with
 * `code`, `message`, `severity`, `routine`), wrapped the way Sequelize wraps
 * them (`original`/`parent`). The same refusals in English run against the
 * real server in test/core/defense-in-depth.test.ts.
 */
describe('isolation: role: refusals translated by SQLSTATE, whatever the server language', () => {
  const names = new TenantNames('tenant_', 63);
  const roles = new PostgresRoles({
    admin: async () => [[]],
    quote: (name) => `"${name}"`,
    escape: (value) => `'${value}'`,
    prefix: () => 'tenant_',
    keyOf: (name) => names.keyOf(name),
    sharedTables: () => [],
    transaction: async () => {
      throw new Error('not used');
    },
  });
  const a = names.ref('a');
  /** A pg DatabaseError as the driver builds it, under Sequelize's wrapper. */
  const refusal = (code: string, message: string, routine: string) => {
    const original = Object.assign(new Error(message), { name: 'error', code, severity: 'FEHLER', routine });
    return Object.assign(new Error(message), { name: 'SequelizeDatabaseError', original, parent: original });
  };
  const usable = async () => true;
  const missing = async () => false;

  it('42501 naming another tenant in the statement: CrossTenantError (quoted or not)', async () => {
    const german = refusal('42501', 'keine Berechtigung für Schema tenant_b', 'aclcheck_error');
    for (const sql of ['SELECT * FROM "tenant_b"."widgets"', 'SELECT * FROM tenant_b.widgets', 'INSERT INTO "tenant_b" . "widgets" ("name") VALUES (\'x\')']) {
      const error = await roles.translate(german, a, sql, usable);
      expect(error, sql).to.be.instanceOf(CrossTenantError);
      expect(error).to.include({ tenant: 'a', instanceTenant: 'b', cause: german });
    }
  });

  it("42501 for a tenant-less statement naming a tenant's table: NoTenantError with that tenant", async () => {
    const german = refusal('42501', 'keine Berechtigung für Tabelle widgets', 'aclcheck_error');
    const error = await roles.translate(german, undefined, 'SELECT * FROM "tenant_b".widgets', usable);
    expect(error).to.be.instanceOf(NoTenantError);
    expect(error).to.include({ tenant: 'b', cause: german });
  });

  it("SET ROLE's refusals (22023, 42704, 42501) with the tenant's role missing or not the login's: ConfigurationError naming syncRoles()", async () => {
    for (const [code, message] of [
      ['22023', 'Rolle »tenant_a« existiert nicht'],
      ['42704', 'Rolle »tenant_a« existiert nicht'],
      ['42501', 'keine Berechtigung, Rolle »tenant_a« zu setzen'],
    ]) {
      const error = await roles.translate(refusal(code!, message!, 'call_string_check_hook'), a, 'SELECT 1', missing);
      expect(error, code).to.be.instanceOf(ConfigurationError);
      expect((error as Error).message).to.include('syncRoles()').and.include('tenant:roles');
    }
  });

  it('anything else is returned unchanged: its own schema, a missing type with the role in place, another SQLSTATE', async () => {
    const own = refusal('42501', 'keine Berechtigung für Tabelle widgets', 'aclcheck_error');
    expect(await roles.translate(own, a, 'SELECT * FROM "tenant_a".widgets', usable)).to.equal(own);
    const type = refusal('42704', 'Typ »mood« existiert nicht', 'typenameType');
    expect(await roles.translate(type, a, 'SELECT 1::mood', usable)).to.equal(type);
    const syntax = refusal('42601', 'Syntaxfehler bei »FORM«', 'scanner_yyerror');
    expect(await roles.translate(syntax, a, 'SELECT * FORM "tenant_b".widgets', missing)).to.equal(syntax);
    // A tenant-less statement naming no tenant: not this package's refusal.
    const other = refusal('42501', 'keine Berechtigung für Funktion f', 'aclcheck_error');
    expect(await roles.translate(other, undefined, 'SELECT f()', usable)).to.equal(other);
  });
});
