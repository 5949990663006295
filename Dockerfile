# revenant worker image. Everything is installed and built at image build time (npm packages
# from the lock file, the TypeScript build and the prebuilt workflow bundle); nothing is
# downloaded when a container starts.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY workflows workflows
COPY activities activities
COPY worker worker
COPY client client
COPY model model
COPY scripts/bundle-workflows.js scripts/bundle-workflows.js
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# glibc gives each thread that allocates its own malloc arena (the SDK's Rust threads, the workflow
# thread, libuv's pool), and each keeps what it freed: two arenas hold the worker's peak RSS about
# 20-30 MB lower over the same migrations (bench/RESULTS.md), at no cost in speed measured.
ENV MALLOC_ARENA_MAX=2
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY bin bin
USER node
# Credentials come from the environment (REVENANT_MYSQL_USER / REVENANT_MYSQL_PASSWORD) or a
# mounted REVENANT_CONFIG file; Temporal from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.
ENTRYPOINT ["node", "bin/revenant.js"]
CMD ["worker"]
