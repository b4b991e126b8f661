import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { SaleInputSchema } from '@tally/contracts';

/** OpenAPI at /docs (UI) and /docs-json, its request schemas taken from the contract. */
export function mountOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Tally ingest')
    .setDescription(
      'Sales enter here and are acknowledged only once NATS JetStream has stored them. Errors are RFC 9457 problem details.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, Sale: SaleInputSchema as object },
  };
  SwaggerModule.setup('docs', app, document);
}
