# syntax=docker/dockerfile:1
# eqlwatch worker image: build with dev dependencies, ship only the runtime (non-root, with a health check).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node queries ./queries
COPY --chown=node:node config ./config
# The image's unprivileged `node` user, by id so the runtime can check it is not root.
USER 1000:1000
EXPOSE 9464
# The worker serves /healthz on its ops port; listen on all interfaces inside the container.
ENV EQLWATCH_HTTP_HOST=0.0.0.0
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/eqlwatch.js"]
CMD ["run"]
