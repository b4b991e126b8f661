import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, ProblemException, problemType } from './problem.js';

/** Fastify's own errors (body parsing, limits) carry a code and a statusCode. */
interface FastifyError extends Error {
  code?: string;
  statusCode?: number;
}

/**
 * The one global exception filter: whatever is thrown becomes a problem document. Unknown
 * errors are logged with the request id and answered as a generic 500 that leaks nothing.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { problem, headers } = toProblem(exception);
    if (problem.status >= 500 && !(exception instanceof ProblemException)) {
      request.log.error({ err: exception }, 'unhandled error');
    }
    reply
      .status(problem.status)
      .headers(headers)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send({ ...problem, instance: request.url, requestId: request.id });
  }
}

function toProblem(exception: unknown): { problem: ProblemDetails; headers: Record<string, string> } {
  if (exception instanceof ProblemException)
    return { problem: exception.problem, headers: exception.headers };
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const detail = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    return {
      problem: {
        type: problemType(slug(HttpStatus[status] ?? 'error')),
        title: exception.message,
        status,
        ...(detail !== undefined && { detail: Array.isArray(detail) ? detail.join('; ') : String(detail) }),
      },
      headers: {},
    };
  }
  const fastifyError = exception as FastifyError;
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
    return {
      problem: {
        type: problemType(slug(fastifyError.code ?? 'bad-request')),
        title: titleFor(fastifyError),
        status: fastifyError.statusCode,
        detail: fastifyError.message,
      },
      headers: {},
    };
  }
  return {
    problem: {
      type: problemType('internal'),
      title: 'Internal error',
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      detail: 'An unexpected error occurred; it has been logged with the request id.',
    },
    headers: {},
  };
}

function titleFor(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The body is not valid JSON';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The body exceeds the size limit';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported content type';
    default:
      return 'Bad request';
  }
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/^fst_err_/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
