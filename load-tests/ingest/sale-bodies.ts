import { randomBytes } from 'node:crypto';
import { makeSale } from '@tally/testing';

/** The branches the generated sales are spread over, round-robin. */
export const BRANCHES = ['branch-1', 'branch-2', 'branch-3'] as const;

export interface GeneratedSale {
  readonly saleId: string;
  readonly branchId: string;
  /** The sale as a client sends it (makeSale's shape: two lines). */
  readonly json: string;
}

/**
 * Valid sales with ids unique across the whole run (and across runs: a random run id), rendered
 * from one makeSale() template by string concatenation, so the load generator spends as little
 * CPU as possible per sale.
 */
export class SaleBodies {
  private readonly pieces: string[];
  private readonly runId = randomBytes(4).toString('hex');
  private counter = 0;

  constructor() {
    const template = JSON.stringify(makeSale({ saleId: '__SALE_ID__', branchId: '__BRANCH_ID__' }));
    // text, placeholder name, text, placeholder name, text
    this.pieces = template.split(/__(SALE_ID|BRANCH_ID)__/);
  }

  /** Sales generated so far (handed to a request or a publish, whether or not it was sent). */
  get generated(): number {
    return this.counter;
  }

  sale(): GeneratedSale {
    const n = this.counter++;
    const saleId = `bench-${this.runId}-${n.toString(36)}`;
    const branchId = BRANCHES[n % BRANCHES.length]!;
    let json = this.pieces[0]!;
    for (let i = 1; i < this.pieces.length; i += 2) {
      json += (this.pieces[i] === 'SALE_ID' ? saleId : branchId) + this.pieces[i + 1]!;
    }
    return { saleId, branchId, json };
  }

  single(): string {
    return this.sale().json;
  }

  jsonArray(size: number): string {
    const sales = new Array<string>(size);
    for (let i = 0; i < size; i++) sales[i] = this.sale().json;
    return `[${sales.join(',')}]`;
  }

  ndjson(size: number): string {
    let body = '';
    for (let i = 0; i < size; i++) body += `${this.sale().json}\n`;
    return body;
  }
}
