import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, type AuthenticatedRequest } from '@tally/common';
import { BRANCH_ID_PATTERN, ID_PATTERN, RFC3339_PATTERN } from '@tally/contracts';
import type { SaleDetail } from '@tally/postgres';
import {
  DEFAULT_LIMIT,
  MAX_LIMIT,
  parseListQuery,
  parseSaleIdRequest,
  parseStoredQuery,
  type RawQuery,
} from './list-query.parser.js';
import { type Caller, type SalesListReply, SalesQueryService } from './sales-query.service.js';

const problem = { description: 'Problem details (RFC 9457), application/problem+json' };

@ApiTags('sales')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/sales')
export class SalesController {
  constructor(private readonly sales: SalesQueryService) {}

  @Get()
  @ApiOperation({
    summary: 'List sales, newest first, a page at a time',
    description:
      'Keyset-paged over (occurredAt, saleId). Pass nextCursor back as cursor, with the same order, for the next page; a list without nextCursor is complete. A key scoped to branches must name one of them as branchId.',
  })
  @ApiQuery({ name: 'branchId', required: false, schema: { type: 'string', pattern: BRANCH_ID_PATTERN } })
  @ApiQuery({ name: 'customerId', required: false, schema: { type: 'string', pattern: ID_PATTERN } })
  @ApiQuery({
    name: 'from',
    required: false,
    description: 'occurredAt at or after this instant (inclusive)',
    schema: { type: 'string', pattern: RFC3339_PATTERN },
  })
  @ApiQuery({
    name: 'to',
    required: false,
    description: 'occurredAt before this instant (exclusive)',
    schema: { type: 'string', pattern: RFC3339_PATTERN },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  })
  @ApiQuery({
    name: 'order',
    required: false,
    schema: { type: 'string', enum: ['desc', 'asc'], default: 'desc' },
  })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiResponse({ status: 200, description: '{ items: SaleSummary[], nextCursor?: string }' })
  @ApiResponse({ status: 400, ...problem })
  @ApiResponse({ status: 401, ...problem })
  @ApiResponse({ status: 403, ...problem })
  @ApiResponse({ status: 503, description: 'Postgres unavailable; retry after Retry-After seconds' })
  list(@Query() query: RawQuery, @Req() request: AuthenticatedRequest): Promise<SalesListReply> {
    const scope = request.branchScope ?? new Set();
    return this.sales.list(parseListQuery(query, scope), caller(request));
  }

  @Post('stored')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Which of these sale ids are stored',
    description:
      'Body { saleIds: string[] } (1–5,000). Answers { stored: string[] }: the ids stored in Postgres, in the order asked, among the branches the key may read. `npm run import -- --query-url` asks it before sending each batch, so re-importing a file sends nothing already stored.',
  })
  @ApiResponse({ status: 200, description: '{ stored: string[] }' })
  @ApiResponse({ status: 400, ...problem })
  @ApiResponse({ status: 401, ...problem })
  @ApiResponse({ status: 503, description: 'Postgres unavailable; retry after Retry-After seconds' })
  async stored(@Body() body: unknown, @Req() request: AuthenticatedRequest): Promise<{ stored: string[] }> {
    return { stored: await this.sales.stored(parseStoredQuery(body), caller(request)) };
  }

  @Get(':saleId')
  @ApiOperation({
    summary: 'One sale with its lines, and for a sale the returns stored against it',
    description:
      'total is the receipt as sent; returnedTotal what its returns gave back; netTotal the signed effect on revenue. A sale of a branch the key may not read is answered 404, as an unknown one.',
  })
  @ApiParam({ name: 'saleId', schema: { type: 'string', pattern: ID_PATTERN } })
  @ApiResponse({ status: 200, description: 'SaleDetail' })
  @ApiResponse({ status: 400, ...problem })
  @ApiResponse({ status: 401, ...problem })
  @ApiResponse({ status: 404, ...problem })
  @ApiResponse({ status: 503, description: 'Postgres unavailable; retry after Retry-After seconds' })
  get(
    @Param('saleId') saleId: string,
    @Query() query: RawQuery,
    @Req() request: AuthenticatedRequest,
  ): Promise<SaleDetail> {
    return this.sales.get(parseSaleIdRequest(saleId, query), caller(request));
  }
}

function caller(request: AuthenticatedRequest): Caller {
  return { scope: request.branchScope ?? new Set(), log: request.log };
}
