import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// Every lib is importable as @tally/<lib>, exactly as tsconfig.json and .swcrc map it.
const libsDir = fileURLToPath(new URL('./libs', import.meta.url));
const alias = Object.fromEntries(
  readdirSync(libsDir).map((lib) => [`@tally/${lib}`, `${libsDir}/${lib}/src/index.ts`]),
);

// SWC instead of esbuild: NestJS dependency injection needs emitDecoratorMetadata.
const plugins = [
  swc.vite({
    swcrc: false,
    module: { type: 'es6' },
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
  }),
];

export default defineConfig({
  plugins,
  resolve: { alias },
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{apps,libs,nats,load-tests}/**/*.spec.ts', 'test/**/*.spec.ts'],
          exclude: ['**/*.int.spec.ts', 'node_modules/**', 'dist/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{apps,libs,nats,load-tests}/**/*.int.spec.ts', 'test/**/*.int.spec.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration tests share one NATS and one Postgres; each isolates itself by name,
          // but running files one at a time keeps timing-sensitive tests honest on 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
