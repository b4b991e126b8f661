# One image for every Tally app; the compose file picks the entry point.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/nats ./nats
COPY --from=build /app/drizzle ./drizzle
COPY --from=build /app/libs/spanner/ddl ./libs/spanner/ddl
COPY --from=build /app/clickhouse ./clickhouse
COPY package.json ./
USER node
