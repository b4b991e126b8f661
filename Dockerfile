# One image for every Tally app and one-shot command; docker-compose.yml picks the entry point
# (`node dist/apps/<app>/src/main.js`, `node dist/libs/clickhouse/bin/migrate.js`, ...).
#
# Stage 1 installs exactly the lock file (`npm ci`), compiles TypeScript with SWC and prunes the
# dev dependencies. Stage 2 holds only what runs: production node_modules, dist/, package.json
# ("type": "module") and the folders the code reads at run time, found upward from WORKDIR /app:
#   nats/definitions      stream and consumer definitions (nats:apply, start-up checks)
#   drizzle/              Postgres migrations and their journal (db:migrate, schema check)
#   libs/spanner/ddl      Spanner DDL (spanner:migrate, schema check)
#   clickhouse/migrations ClickHouse schema (clickhouse:migrate, the aggregator's check)
#   clickhouse/queries    the aggregator's report SQL
# test/compose/docker-compose.spec.ts checks this list against the code that reads them.
#
# chdb (the embedded ClickHouse engine, ~540 MB of native library) is only loaded when
# CLICKHOUSE_URL is unset. The compose aggregator uses the ClickHouse server over HTTP, so the
# image leaves chdb's library out by default; build with `--build-arg CHDB=keep` to run the
# aggregator embedded (data under /app/data, owned by the runtime user).

FROM node:24-slim AS build
WORKDIR /app
# The lock file alone first: the dependency layer is rebuilt only when it changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim AS runtime
ARG CHDB=omit
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/nats/definitions ./nats/definitions
COPY --from=build /app/drizzle ./drizzle
COPY --from=build /app/libs/spanner/ddl ./libs/spanner/ddl
COPY --from=build /app/clickhouse/migrations ./clickhouse/migrations
COPY --from=build /app/clickhouse/queries ./clickhouse/queries
COPY --from=build /app/apps/import/presets ./apps/import/presets
COPY --from=build /app/apps/catalog/samples ./apps/catalog/samples
RUN if [ "$CHDB" = "omit" ]; then rm -rf node_modules/@chdb; \
    elif [ "$CHDB" != "keep" ]; then echo "CHDB must be omit or keep, not $CHDB" >&2; exit 1; fi \
 && mkdir -p /app/data && chown node:node /app/data
# The official image's unprivileged user (uid 1000); the code and node_modules stay root-owned,
# read-only to it.
USER node
CMD ["node", "--enable-source-maps", "dist/apps/ingest/src/main.js"]
