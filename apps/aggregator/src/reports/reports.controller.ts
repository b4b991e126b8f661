import { Controller, Get, HttpStatus, Inject, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ClickHouseClient } from '@tally/clickhouse';
import { ApiKeyGuard, type AuthenticatedRequest, ProblemException, problemType } from '@tally/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { prepareReport, REPORTS } from './report-catalog.js';

export const REPORT_QUERIES = Symbol('REPORT_QUERIES');

/** The BI reports over ClickHouse, as JSON or (Accept: text/csv) CSV. All branches: a `*` key. */
@ApiTags('reports')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/reports')
export class ReportsController {
  constructor(
    private readonly clickhouse: ClickHouseClient,
    @Inject(REPORT_QUERIES) private readonly queries: Map<string, string>,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The reports and their parameters' })
  list(): { reports: { name: string; description: string; params: Record<string, string> }[] } {
    return {
      reports: REPORTS.map((r) => ({
        name: r.name,
        description: r.description,
        params: Object.fromEntries(
          Object.entries(r.params).map(([k, p]) => [k, `${p.description} (default ${p.fallback})`]),
        ),
      })),
    };
  }

  @Get(':name')
  @ApiOperation({ summary: 'One report; parameters as listed by GET /v1/reports. Accept: text/csv for CSV' })
  @ApiParam({ name: 'name', enum: REPORTS.map((r) => r.name) })
  @ApiProduces('application/json', 'text/csv')
  async run(
    @Param('name') name: string,
    @Query() query: Record<string, string | string[] | undefined>,
    @Req() request: AuthenticatedRequest & FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    if (request.branchScope !== '*') {
      throw new ProblemException({
        type: problemType('forbidden-branch'),
        title: 'Reports span every branch: they need a key for all branches (*)',
        status: HttpStatus.FORBIDDEN,
      });
    }
    const spec = REPORTS.find((r) => r.name === name);
    if (spec === undefined) {
      throw new ProblemException({
        type: problemType('not-found'),
        title: 'No such report',
        status: HttpStatus.NOT_FOUND,
        detail: `known reports: ${REPORTS.map((r) => r.name).join(', ')}`,
      });
    }
    const { report, errors } = prepareReport(spec, this.queries.get(name)!, query);
    if (errors.length > 0) throw ProblemException.invalidParameters(errors);
    if ((request.headers.accept ?? '').includes('text/csv')) {
      reply.header('content-type', 'text/csv; charset=utf-8');
      return this.clickhouse.csv(report.sql, report.params);
    }
    return {
      report: name,
      params: report.params,
      rows: await this.clickhouse.rows(report.sql, report.params),
    };
  }
}
