import type { INestApplication } from '@nestjs/common';
import { mountOpenApi as mount } from '@tally/common';
import { SaleSubmissionSchema } from '@tally/contracts';

/** OpenAPI at /docs (UI) and /docs-json, its request schemas taken from the contract. */
export function mountOpenApi(app: INestApplication): void {
  mount(app, {
    title: 'Tally ingest',
    description:
      'Sales enter here and are acknowledged only once NATS JetStream has stored them. Errors are RFC 9457 problem details.',
    schemas: { Sale: SaleSubmissionSchema as object },
  });
}
