import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Model, ModelStatic } from 'sequelize';
import type { Apartment } from 'sequelize-apartment';
import { tenantProcessor, tenantQueue } from 'sequelize-apartment/bullmq';

/** The README's BullMQ setup, run by test/examples/integrations.test.ts (`prefix`: BullMQ's Redis key prefix). */
export async function bullmqExample(apartment: Apartment, Note: ModelStatic<Model>, connection: ConnectionOptions, prefix = 'bull') {
  // #region setup
  const emails = tenantQueue(apartment, new Queue('emails', { connection, prefix }));
  const worker = new Worker('emails', tenantProcessor<{ to: string }>(apartment, async (job) => {
    await Note.create({ body: `welcome ${job.data.to}` }); // in the tenant the job was added in
  }), { connection, prefix });

  const job = await apartment.run('acme', () => emails.add('welcome', { to: 'ada@acme.test' })); // carries 'acme'
  // #endregion setup
  return { emails, worker, job };
}
