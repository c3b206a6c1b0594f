import { createHmac, timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { ModelStatic, Model, Sequelize } from 'sequelize';
import type { Apartment } from 'sequelize-apartment';

/**
 * docs/guides/migrating-an-existing-app.md's steps, run by
 * test/examples/existing-app.test.ts on PostgreSQL and MySQL/MariaDB.
 */

/** Copies the old Users table into tenant 'legacy' (schema/database tenant_legacy), then sets its counters. */
export async function copyUsersPostgres(sequelize: Sequelize): Promise<void> {
  // #region copy-postgres
  await sequelize.query('INSERT INTO tenant_legacy."Users" SELECT * FROM public."Users"');
  // #endregion copy-postgres
  await setSequencesPostgres(sequelize);
}

export async function setSequencesPostgres(sequelize: Sequelize): Promise<void> {
  // #region sequences-postgres
  // Every serial/identity column of every table in the tenant's schema: its sequence goes on after the highest copied value.
  await sequelize.query(`
    DO $$
    DECLARE c record; next bigint;
    BEGIN
      FOR c IN SELECT table_schema, table_name, column_name,
                      pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name) AS seq
                 FROM information_schema.columns
                WHERE table_schema = 'tenant_legacy'
      LOOP
        CONTINUE WHEN c.seq IS NULL;
        -- the highest value first, then setval apart (on Citus a statement reading the table runs on its worker)
        EXECUTE format('SELECT coalesce(max(%I), 0) + 1 FROM %I.%I', c.column_name, c.table_schema, c.table_name) INTO next;
        PERFORM setval(c.seq, next, false);
      END LOOP;
    END $$
  `);
  // #endregion sequences-postgres
}

export async function copyUsersMysql(sequelize: Sequelize): Promise<void> {
  // #region copy-mysql
  await sequelize.query('INSERT INTO tenant_legacy.Users SELECT * FROM Users');
  // #endregion copy-mysql
}

/** Only to keep the old table's counter (ids of rows deleted before the copy are never handed out again). */
export async function keepCounterMysql(sequelize: Sequelize): Promise<void> {
  // #region counter-mysql
  await sequelize.query('ANALYZE TABLE Users'); // MySQL 8 caches information_schema.TABLES.AUTO_INCREMENT
  const [[{ next }]] = (await sequelize.query(
    "SELECT AUTO_INCREMENT AS next FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'Users'",
  )) as [Array<{ next: number }>, unknown];
  await sequelize.query(`ALTER TABLE tenant_legacy.Users AUTO_INCREMENT = ${Number(next)}`);
  // #endregion counter-mysql
}

/** An Express app whose login tokens are bound to the tenant that minted them. */
export function tokenApp(apartment: Apartment, User: ModelStatic<Model>, secret: string) {
  const app = express();
  app.use(express.json());
  app.use(apartment.middleware({ resolve: 'header', header: 'x-tenant' }));

  // #region tokens
  // A token names the tenant it was minted in, and is signed.
  const sign = (claims: object) => {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
  };
  const verify = (token = ''): { tenant?: string; email?: string } | undefined => {
    const [body = '', mac = ''] = token.split('.');
    const expected = createHmac('sha256', secret).update(body).digest('base64url');
    if (mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) return undefined;
    return JSON.parse(Buffer.from(body, 'base64url').toString()) as { tenant?: string; email?: string };
  };

  app.post('/login', async (req, res) => {
    const user = await User.findOne({ where: { email: req.body.email } }); // (check the password too)
    if (user) res.json({ token: sign({ tenant: apartment.current(), email: user.get('email') }) });
    else res.status(401).json({ error: 'Unknown email' });
  });

  app.get('/me', async (req, res) => {
    const claims = verify(req.get('authorization')?.replace(/^Bearer /, ''));
    // The same email can exist in every tenant: a token from acme must not open globex.
    if (!claims || claims.tenant !== apartment.current()) res.status(401).json({ error: 'Log in again' });
    else res.json(await User.findOne({ where: { email: claims.email } }));
  });
  // #endregion tokens
  return app;
}
