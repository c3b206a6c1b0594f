import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { ApartmentError, TenantSuspendedError } from '../../errors';
import { clientAnswer } from '../../http/answer';
import { APARTMENT_MODULE_OPTIONS, type ApartmentModuleOptions } from './tokens';

/**
 * Answers an `ApartmentError` with a status below 500 (no tenant 400, an
 * invalid or unknown tenant 404, a tenant model used without a tenant 400,
 * a tenant that exists 409, a suspended tenant 503/423, ...) with that status and
 * `{ statusCode, error, message, tenant }`, where `message` is the short
 * client message (no API advice; the error keeps its full message for logs),
 * on the Express and the Fastify
 * adapter alike. Anything else goes to Nest's default handling (500,
 * logged), as does everything with
 * `exceptionFilter: false`. Registered globally by `ApartmentModule`; exported for apps that register filters themselves.
 */
@Catch(ApartmentError)
export class ApartmentExceptionFilter implements ExceptionFilter {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(APARTMENT_MODULE_OPTIONS) private readonly options?: ApartmentModuleOptions,
  ) {}

  catch(error: ApartmentError, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const answered = error.status < 500 || error instanceof TenantSuspendedError; // a closed tenant's 503 is not a server fault
    if (this.options?.exceptionFilter === false || host.getType() !== 'http' || !answered) {
      new BaseExceptionFilter(adapter).catch(error, host);
      return;
    }
    const answer = clientAnswer(error);
    adapter.reply(host.switchToHttp().getResponse(), answer, answer.statusCode);
  }
}
