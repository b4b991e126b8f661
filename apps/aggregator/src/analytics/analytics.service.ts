import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ProblemException, problemType } from '@tally/common';
import { AggregatorService } from '../pipeline/aggregator.service.js';
import type { SalesFolder } from '../pipeline/sales-folder.js';
import { Aggregate } from '../windows/aggregate.js';
import {
  type CategoryFigures,
  type CustomerRank,
  DEFAULT_LIMITS,
  type ProductFigures,
  productOf,
  type SummaryFigures,
  summaryOf,
  topCategoriesByCount,
  topCustomersOf,
} from '../windows/summary.js';
import type { ViewParams } from './analytics-query.parser.js';

/** What every answer says about the figures it holds. */
export interface ViewHeader {
  readonly window: string;
  /** null: all branches together. */
  readonly branchId: string | null;
  /** The windows' clock when answering. */
  readonly asOf: string;
  /** Start of the window's oldest bucket (inclusive); null for `all`. */
  readonly from: string | null;
  /** Highest stream sequence in the figures. */
  readonly appliedThrough: number;
}

export type SummaryReply = ViewHeader & SummaryFigures;
export interface FeedbackReply extends ViewHeader {
  readonly categories: { readonly category: string; readonly count: number; readonly revenue: string }[];
}
export type ProductReply = ViewHeader & ProductFigures;
export interface TopCustomersReply extends ViewHeader {
  readonly customers: CustomerRank[];
}

/** Answers from the in-memory figures; 503 while they are being recovered after a start. */
@Injectable()
export class AnalyticsService {
  constructor(@Inject(AggregatorService) private readonly aggregator: AggregatorService) {}

  async summary(params: ViewParams): Promise<SummaryReply> {
    const { header, agg } = await this.view(params);
    return { ...header, ...summaryOf(agg, DEFAULT_LIMITS) };
  }

  async feedback(params: ViewParams): Promise<FeedbackReply> {
    const { header, agg } = await this.view(params);
    return { ...header, categories: topCategoriesByCount(agg, 3).map(feedbackEntry) };
  }

  async product(params: ViewParams, productId: string): Promise<ProductReply> {
    const { header, agg } = await this.view(params);
    return { ...header, ...productOf(agg, productId) };
  }

  async topCustomers(params: ViewParams, limit: number): Promise<TopCustomersReply> {
    const { header, agg } = await this.view(params);
    return { ...header, customers: topCustomersOf(agg, limit) };
  }

  /** 503 (ProblemException) while the figures are being recovered. */
  assertReady(): void {
    this.folder();
  }

  /** Changes whenever the figures may have: the live stream recomputes only then. */
  get version(): number {
    return this.aggregator.folder?.version ?? -1;
  }

  /**
   * The figures of one window and scope, everything staged landed first: a slice at a time
   * between batches (SalesFolder.landForRead), then what arrived meanwhile at once, with the
   * answer computed in that same turn of the event loop.
   */
  private async view(params: ViewParams): Promise<{ header: ViewHeader; agg: Aggregate }> {
    await this.folder().landForRead();
    const folder = this.folder();
    const state = folder.windows;
    const spec = state.layout.windows.find((w) => w.name === params.window);
    const from =
      spec === undefined
        ? null
        : new Date(
            (Math.floor(state.nowMs / spec.bucketMs) - spec.buckets + 1) * spec.bucketMs,
          ).toISOString();
    return {
      header: {
        window: params.window,
        branchId: params.branchId ?? null,
        asOf: new Date(state.nowMs).toISOString(),
        from,
        appliedThrough: folder.appliedThrough,
      },
      // A branch never seen has no sales: zero figures, not 404 (it may sell in a minute).
      agg: state.view(params.window, params.branchId) ?? new Aggregate(),
    };
  }

  private folder(): SalesFolder {
    const folder = this.aggregator.folder;
    if (folder === undefined) {
      throw new ProblemException(
        {
          type: problemType('recovering'),
          title: 'The figures are being recovered; retry shortly',
          status: HttpStatus.SERVICE_UNAVAILABLE,
          detail: 'the aggregator is restoring its snapshot and replaying the stream after it',
        },
        { 'retry-after': '1' },
      );
    }
    folder.tick(Date.now());
    return folder;
  }
}

function feedbackEntry(c: CategoryFigures): { category: string; count: number; revenue: string } {
  return { category: c.category, count: c.lines, revenue: c.revenue };
}
