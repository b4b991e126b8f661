import { Controller, Get, Inject, Param, Query, Req, Sse, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, type AuthenticatedRequest } from '@tally/common';
import { BRANCH_ID_PATTERN, ID_PATTERN } from '@tally/contracts';
import { distinctUntilChanged, exhaustMap, filter, interval, map, type Observable, startWith } from 'rxjs';
import { AGGREGATOR_CONFIG, type AggregatorConfig } from '../config/aggregator.config.js';
import { WINDOW_NAMES } from '../windows/window-spec.js';
import {
  AnalyticsService,
  type FeedbackReply,
  type ProductReply,
  type SummaryReply,
  type TopCustomersReply,
} from './analytics.service.js';
import {
  MAX_TOP,
  parseLimit,
  parseProductId,
  parseViewQuery,
  type RawQuery,
} from './analytics-query.parser.js';

const problem = { description: 'Problem details (RFC 9457), application/problem+json' };
const windowQuery = (fallback: string) =>
  ApiQuery({
    name: 'window',
    required: false,
    description: 'Rolling window ending now, or all (since the stream began)',
    schema: { type: 'string', enum: [...WINDOW_NAMES], default: fallback },
  });
const branchQuery = ApiQuery({
  name: 'branchId',
  required: false,
  description:
    'One branch; all branches together when absent (a branch-scoped key must name one of its branches)',
  schema: { type: 'string', pattern: BRANCH_ID_PATTERN },
});

/** Live figures, answered from memory. */
@ApiTags('analytics')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1')
export class AnalyticsController {
  constructor(
    private readonly analytics: AnalyticsService,
    @Inject(AGGREGATOR_CONFIG) private readonly config: AggregatorConfig,
  ) {}

  @Get('feedback')
  @ApiOperation({
    summary: 'The three most common categories (by lines sold) with their net revenue',
    description: "The seed system's /feedback. Defaults to all sales since the stream began.",
  })
  @windowQuery('all')
  @branchQuery
  @ApiResponse({ status: 200, description: 'FeedbackReply' })
  @ApiResponse({ status: 400, ...problem })
  @ApiResponse({ status: 503, description: 'Recovering after a start; retry after Retry-After seconds' })
  feedback(@Query() query: RawQuery, @Req() request: AuthenticatedRequest): Promise<FeedbackReply> {
    return this.analytics.feedback(parseViewQuery(query, scopeOf(request), 'all'));
  }

  @Get('analytics/summary')
  @ApiOperation({
    summary:
      'Every figure of one window: counts, units, revenue, average basket, distinct customers, categories, top products and customers',
  })
  @windowQuery('1h')
  @branchQuery
  @ApiResponse({ status: 200, description: 'SummaryReply' })
  @ApiResponse({ status: 400, ...problem })
  @ApiResponse({ status: 403, ...problem })
  @ApiResponse({ status: 503, description: 'Recovering after a start; retry after Retry-After seconds' })
  summary(@Query() query: RawQuery, @Req() request: AuthenticatedRequest): Promise<SummaryReply> {
    return this.analytics.summary(parseViewQuery(query, scopeOf(request), '1h'));
  }

  @Get('analytics/products/:productId')
  @ApiOperation({ summary: "One product's figures in a window (zero when it sold nothing)" })
  @ApiParam({ name: 'productId', schema: { type: 'string', pattern: ID_PATTERN } })
  @windowQuery('1h')
  @branchQuery
  @ApiResponse({ status: 200, description: 'ProductReply' })
  @ApiResponse({ status: 400, ...problem })
  product(
    @Param('productId') productId: string,
    @Query() query: RawQuery,
    @Req() request: AuthenticatedRequest,
  ): Promise<ProductReply> {
    return this.analytics.product(parseViewQuery(query, scopeOf(request), '1h'), parseProductId(productId));
  }

  @Get('analytics/customers/top')
  @ApiOperation({ summary: 'The customers with the highest net revenue in a window' })
  @windowQuery('1h')
  @branchQuery
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_TOP, default: 5 },
  })
  @ApiResponse({ status: 200, description: 'TopCustomersReply' })
  @ApiResponse({ status: 400, ...problem })
  topCustomers(@Query() query: RawQuery, @Req() request: AuthenticatedRequest): Promise<TopCustomersReply> {
    return this.analytics.topCustomers(parseViewQuery(query, scopeOf(request), '1h'), parseLimit(query, 5));
  }

  @Sse('analytics/stream')
  @ApiOperation({
    summary: 'Server-Sent Events: the summary of a window, pushed when it changes',
    description:
      'One `summary` event at once, then one whenever the figures change, at most every AGGREGATOR_STREAM_INTERVAL (1 s by default).',
  })
  @windowQuery('1h')
  @branchQuery
  stream(
    @Query() query: RawQuery,
    @Req() request: AuthenticatedRequest,
  ): Observable<{ type: string; data: string }> {
    const params = parseViewQuery(query, scopeOf(request), '1h');
    this.analytics.assertReady(); // 503 now, before the event stream opens, while recovering
    let lastVersion = Number.NaN;
    return interval(this.config.streamIntervalMs).pipe(
      startWith(-1),
      // Skip the work when nothing was folded and no bucket moved since the last push.
      filter(() => {
        const version = this.analytics.version;
        if (version === lastVersion) return false;
        lastVersion = version;
        return true;
      }),
      // A tick that comes while the last summary is still being computed is dropped.
      exhaustMap(async () => {
        const { asOf: _asOf, ...figures } = await this.analytics.summary(params);
        return JSON.stringify(figures);
      }),
      distinctUntilChanged(),
      map((data) => ({ type: 'summary', data })),
    );
  }
}

function scopeOf(request: AuthenticatedRequest) {
  return request.branchScope ?? new Set<string>();
}
