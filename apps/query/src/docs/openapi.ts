import type { INestApplication } from '@nestjs/common';
import { mountOpenApi as mount } from '@tally/common';

/** OpenAPI at /docs (UI) and /docs-json. */
export function mountOpenApi(app: INestApplication): void {
  mount(app, {
    title: 'Tally query',
    description:
      'Reads of the sales stored in Postgres, within the branches of the caller’s API key. Money is exact decimal text; errors are RFC 9457 problem details.',
  });
}
