import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export interface OpenApiInfo {
  readonly title: string;
  readonly description: string;
  /** Extra component schemas (e.g. the sale contract, straight from its TypeBox schema). */
  readonly schemas?: Readonly<Record<string, object>>;
}

/** OpenAPI at /docs (UI) and /docs-json, with bearer auth, for every Tally app. */
export function mountOpenApi(app: INestApplication, info: OpenApiInfo): void {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setDescription(info.description)
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  if (info.schemas !== undefined) {
    document.components = {
      ...document.components,
      schemas: { ...document.components?.schemas, ...info.schemas },
    };
  }
  SwaggerModule.setup('docs', app, document);
}
