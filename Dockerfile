# One image for every Momentum service: the SERVICES variable chooses what a container runs
# (gateway, identity, ...; all of them when unset), TRANSPORTER joins it to the cluster and HEALTH_PORT
# turns on its probes. See docker-compose.yml, which starts this image four times.

# --- build: compile the TypeScript sources to dist/ ---
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json moleculer.config.ts ./
COPY lib ./lib
COPY services ./services
COPY app ./app
RUN npm run build

# --- runtime: production dependencies and the compiled code only ---
FROM node:24-bookworm-slim
ENV NODE_ENV=production
# Outside a container the servers bind 127.0.0.1; here they must be reachable from the container network.
ENV HOST=0.0.0.0
WORKDIR /app
# The `node` devDependency is left out here; the base image already provides Node 24.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY proto ./proto
# the storefront and the admin: plain files the gateway serves (PAGES=off leaves them unserved)
COPY web ./web
# DATA_DIR (.data) must be writable by the app user: the embedded PostgreSQL, used when
# DATABASE_URL is unset, keeps its data there.
RUN mkdir -p .data && chown node:node .data
USER node
# 3000: the REST gateway (PORT); 3001: /health/live and /health/ready (HEALTH_PORT, served by every
# node when set); 50051: identity's gRPC server (IDENTITY_GRPC_PORT).
EXPOSE 3000 3001 50051
# No HEALTHCHECK here: the probe port exists only when HEALTH_PORT is set, so the check is declared
# where it is set, in docker-compose.yml (GET /health/ready on 3001, run with node: the image has
# no curl or wget).
# What `npm run start:prod` runs, without npm in between: node is the process that gets SIGTERM (under
# `init: true` in compose) and stops gracefully; NODE_ENV is set above, and there is no .env in the
# image (.dockerignore): configuration comes from the container's environment.
CMD ["node", "dist/app/main.js"]
