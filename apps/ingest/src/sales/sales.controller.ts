import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, type AuthenticatedRequest, ProblemException } from '@tally/common';
import { SaleSubmissionSchema } from '@tally/contracts';
import {
  type BatchReceipt,
  type Caller,
  SaleIntakeService,
  type SaleReceipt,
} from './sale-intake.service.js';

const problem = { description: 'Problem details (RFC 9457), application/problem+json' };

@ApiTags('sales')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/sales')
export class SalesController {
  constructor(private readonly intake: SaleIntakeService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Submit one sale',
    description:
      'Answers 202 only once JetStream has stored the sale. Resending the same saleId within the duplicate window answers status "duplicate" and stores nothing new.',
  })
  @ApiBody({ schema: SaleSubmissionSchema as object })
  @ApiResponse({ status: 202, description: '{ saleId, status: "accepted" | "duplicate", seq }' })
  @ApiResponse({ status: 401, ...problem })
  @ApiResponse({ status: 403, ...problem })
  @ApiResponse({ status: 422, ...problem })
  @ApiResponse({ status: 503, description: 'NATS unavailable or saturated; retry after Retry-After seconds' })
  submit(@Body() body: unknown, @Req() request: AuthenticatedRequest): Promise<SaleReceipt> {
    return this.intake.acceptOne(body, caller(request));
  }

  @Post('batch')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Submit up to 5,000 sales (JSON array or NDJSON)',
    description:
      'Valid sales are stored even when others are rejected; results list every index with its status or errors.',
  })
  @ApiConsumes('application/json', 'application/x-ndjson')
  @ApiBody({ schema: { type: 'array', items: SaleSubmissionSchema as object, maxItems: 5000 } })
  @ApiResponse({ status: 202, description: '{ accepted, duplicate, rejected, unavailable, results[] }' })
  @ApiResponse({ status: 422, ...problem })
  @ApiResponse({
    status: 503,
    description: 'Some sales could not be stored; results say which; resending all is safe',
  })
  submitBatch(@Body() body: unknown, @Req() request: AuthenticatedRequest): Promise<BatchReceipt> {
    if (!Array.isArray(body)) {
      throw ProblemException.validation([
        { pointer: '', rule: 'type', message: 'must be an array of sales' },
      ]);
    }
    if (body.length === 0 || body.length > this.intake.batchMaxSales) {
      throw ProblemException.validation([
        { pointer: '', rule: 'batch-size', message: `must hold 1 to ${this.intake.batchMaxSales} sales` },
      ]);
    }
    return this.intake.acceptBatch(body, caller(request));
  }
}

function caller(request: AuthenticatedRequest): Caller {
  return { scope: request.branchScope ?? new Set(), requestId: request.id };
}
