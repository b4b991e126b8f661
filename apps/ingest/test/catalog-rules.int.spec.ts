import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Catalog, CatalogBucket, type CatalogProduct, defaultCatalogBucket } from '@tally/catalog';
import { decodeEnvelope, type SaleLineSubmission, type SaleSubmission } from '@tally/contracts';
import { makeSale, NatsFixture, TcpProxy } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, post, startIngest } from './ingest-app.fixture.js';

/**
 * Ingest with the catalog: loaded from the real KV bucket at boot, watched for updates, used to
 * complete lines and (when configured) to enforce the supermarket's rules. The catalog is
 * published with CatalogBucket.publish, the same call `npm run catalog:import` ends with.
 */
const MILK: CatalogProduct = {
  productId: 'P001',
  name: 'Whole milk 1L',
  category: 'dairy',
  brand: 'Farmhouse',
  listPrice: '1.15',
  currency: 'EUR',
};
const BREAD: CatalogProduct = {
  productId: 'P002',
  name: 'Sourdough bread',
  category: 'bakery',
  listPrice: '3.4',
  currency: 'EUR',
};
const CATALOG: Catalog = {
  products: [MILK, BREAD],
  branches: [
    { branchId: 'branch-north', name: 'North' },
    { branchId: 'branch-south', name: 'South' },
  ],
};

let nats: NatsFixture;
let bucket: CatalogBucket;
/** CATALOG_ENFORCE=on, MAX_UNITS_PER_PRODUCT=1: the supermarket. */
let shop: { app: NestFastifyApplication; url: string };
/** The defaults: no enforcement, no limit; the catalog still completes lines. */
let open: { app: NestFastifyApplication; url: string };

beforeAll(async () => {
  nats = await NatsFixture.create();
  bucket = await CatalogBucket.open(nats.nc, defaultCatalogBucket(nats.names.stream));
  await bucket.publish(CATALOG);
  shop = await startIngest(nats.names, {
    catalogEnforce: { products: true, branches: true },
    maxUnitsPerProduct: 1,
  });
  open = await startIngest(nats.names);
});

afterAll(async () => {
  await shop?.app.close();
  await open?.app.close();
  await nats?.dispose();
});

const line = (productId: string, quantity = 1): SaleLineSubmission => ({
  productId,
  quantity,
  unitPrice: '1.15',
});

/** A sale of the given lines at branch-north, lines without category unless given. */
function sale(lines: SaleLineSubmission[], overrides: Partial<SaleSubmission> = {}): SaleSubmission {
  return { ...makeSale({ branchId: 'branch-north' }), lines, ...overrides };
}

async function expectRejected(url: string, body: SaleSubmission, errors: object[]): Promise<void> {
  const before = await nats.messageCount();
  const res = await post(`${url}/v1/sales`, body);
  expect(res.status).toBe(422);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = await json(res);
  expect(problem.type).toBe('urn:tally:problem:validation');
  expect(problem.errors).toEqual(errors.map((e) => expect.objectContaining(e)));
  expect(await nats.messageCount()).toBe(before);
}

describe('ingest with CATALOG_ENFORCE=on and MAX_UNITS_PER_PRODUCT=1', () => {
  it('rejects a product the catalog does not know, naming the line and the rule', async () => {
    await expectRejected(shop.url, sale([line('P001'), { ...line('P404'), category: 'misc' }]), [
      {
        pointer: '/lines/1/productId',
        rule: 'unknown-product',
        message: 'product P404 is not in the catalog',
      },
    ]);
  });

  it('rejects a branch the catalog does not know', async () => {
    await expectRejected(shop.url, sale([line('P001')], { branchId: 'branch-west' }), [
      { pointer: '/branchId', rule: 'unknown-branch', message: 'branch branch-west is not in the catalog' },
    ]);
  });

  it('rejects two units of a product, and a product repeated in one sale', async () => {
    await expectRejected(shop.url, sale([line('P001', 2)]), [
      { pointer: '/lines/0/quantity', rule: 'max-units-per-product' },
    ]);
    await expectRejected(shop.url, sale([line('P001'), line('P002'), line('P001')]), [
      { pointer: '/lines/2/productId', rule: 'max-units-per-product' },
    ]);
  });

  it('accepts one unit of each known product and streams it with category, name and brand from the catalog', async () => {
    const body = sale([line('P001'), { ...line('P002'), category: 'bread-own' }]);
    const res = await post(`${shop.url}/v1/sales`, body);
    expect(res.status).toBe(202);
    const { seq } = await json(res);
    const [streamed] = decodeEnvelope((await nats.message(seq)).data);
    expect(streamed!.saleId).toBe(body.saleId);
    expect(streamed!.lines).toEqual([
      expect.objectContaining({
        productId: 'P001',
        productName: 'Whole milk 1L',
        category: 'dairy',
        brand: 'Farmhouse',
      }),
      // What the line states wins over the catalog.
      expect.objectContaining({ productId: 'P002', productName: 'Sourdough bread', category: 'bread-own' }),
    ]);
    expect(streamed!.lines[1]).not.toHaveProperty('brand');
  });

  it('rejects only the breaking sales of a batch and stores the others', async () => {
    const good = [sale([line('P001')]), sale([line('P002')], { branchId: 'branch-south' })];
    const unknown = sale([line('P001'), line('P404')]);
    const twoUnits = sale([line('P002', 2)]);
    const res = await post(`${shop.url}/v1/sales/batch`, [good[0], unknown, twoUnits, good[1]]);
    expect(res.status).toBe(202);
    const receipt = await json(res);
    expect(receipt).toMatchObject({ accepted: 2, rejected: 2, duplicate: 0, unavailable: 0 });
    expect(receipt.results[1]).toMatchObject({
      status: 'rejected',
      errors: [
        // Enforcement off would still need a category for P404; both are named.
        { pointer: '/lines/1/category', rule: 'required' },
        { pointer: '/lines/1/productId', rule: 'unknown-product' },
      ],
    });
    expect(receipt.results[2]).toMatchObject({
      status: 'rejected',
      errors: [{ pointer: '/lines/0/quantity', rule: 'max-units-per-product' }],
    });

    const streamed = new Map((await nats.sales()).map((s) => [s.saleId, s]));
    for (const s of good) expect(streamed.get(s.saleId)?.lines[0]?.category).toBeDefined();
    expect(streamed.has(unknown.saleId)).toBe(false);
    expect(streamed.has(twoUnits.saleId)).toBe(false);
  });

  it('picks up a catalog update without restart: a new product is accepted, a removed one refused', async () => {
    const oat: CatalogProduct = { ...BREAD, productId: 'P011', name: 'Oat drink 1L', category: 'dairy-free' };
    await expectRejected(shop.url, sale([{ ...line('P011'), category: 'x' }]), [{ rule: 'unknown-product' }]);

    await bucket.publish({ ...CATALOG, products: [MILK, BREAD, oat] });
    let accepted: Response | undefined;
    await expect
      .poll(
        async () => {
          accepted = await post(`${shop.url}/v1/sales`, sale([line('P011')]));
          return accepted.status;
        },
        { timeout: 5_000, interval: 50 },
      )
      .toBe(202);
    const [streamed] = decodeEnvelope((await nats.message((await json(accepted!)).seq)).data);
    expect(streamed!.lines[0]).toMatchObject({ productId: 'P011', category: 'dairy-free' });

    await bucket.publish(CATALOG);
    await expect
      .poll(
        async () => (await post(`${shop.url}/v1/sales`, sale([{ ...line('P011'), category: 'x' }]))).status,
        {
          timeout: 5_000,
          interval: 50,
        },
      )
      .toBe(422);
  });

  it('reports the catalog it holds on /health/ready', async () => {
    const body = await json(await fetch(`${shop.url}/health/ready`));
    expect(body.checks.catalog).toMatchObject({
      bucket: defaultCatalogBucket(nats.names.stream),
      products: 2,
      branches: 2,
    });
  });
});

describe('ingest with the default rules (no enforcement, no unit limit)', () => {
  it('completes an omitted category from the catalog and keeps duplicate detection by saleId', async () => {
    const body = sale([line('P001', 3)], { branchId: 'branch-anywhere' });
    const first = await post(`${open.url}/v1/sales`, body);
    expect(first.status).toBe(202);
    const { seq, status } = await json(first);
    expect(status).toBe('accepted');
    const [streamed] = decodeEnvelope((await nats.message(seq)).data);
    expect(streamed!.lines[0]).toMatchObject({
      category: 'dairy',
      productName: 'Whole milk 1L',
      quantity: 3,
    });

    const again = await json(await post(`${open.url}/v1/sales`, body));
    expect(again).toEqual({ saleId: body.saleId, status: 'duplicate', seq });
  });

  it('accepts unknown products that carry their category, and rejects one without, naming the product', async () => {
    expect(
      (await post(`${open.url}/v1/sales`, sale([{ ...line('P404', 7), category: 'misc' }]))).status,
    ).toBe(202);
    await expectRejected(open.url, sale([line('P001'), line('P404')]), [
      {
        pointer: '/lines/1/category',
        rule: 'required',
        message: 'is required (product P404 is not in the catalog)',
      },
    ]);
  });
});

describe('the catalog watch across a lost NATS connection', () => {
  it('still applies updates after the link to NATS was cut and restored', async () => {
    const natsUrl = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
    const proxy = await TcpProxy.start(natsUrl.hostname, Number(natsUrl.port || 4222));
    const { app, url } = await startIngest(nats.names, {
      natsUrl: `nats://${proxy.url}`,
      catalogEnforce: { products: true, branches: false },
    });
    try {
      const tea: CatalogProduct = { ...BREAD, productId: 'P012', name: 'Tea', category: 'pantry' };
      proxy.cut();
      await expect
        .poll(async () => (await fetch(`${url}/health/ready`)).status, { timeout: 5_000 })
        .toBe(503);
      await bucket.publish({ ...CATALOG, products: [MILK, BREAD, tea] });
      proxy.heal();
      await expect
        .poll(async () => (await post(`${url}/v1/sales`, sale([line('P012')]))).status, {
          timeout: 20_000,
          interval: 100,
        })
        .toBe(202);
    } finally {
      await app.close();
      await proxy.close();
      await bucket.publish(CATALOG);
    }
  });
});
