# One image for every Momentum service: the SERVICES variable chooses what a container runs
# (gateway, identity, ...; all of them when unset). See docker-compose.yml.

# --- build: compile the TypeScript sources to dist/ ---
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json moleculer.config.ts ./
COPY lib ./lib
COPY services ./services
COPY mixins ./mixins
RUN npm run build

# --- runtime: production dependencies and the compiled code only ---
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The `node` devDependency is left out here; the base image already provides Node 24.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY proto ./proto
# DATA_DIR (.data) must be writable by the app user: the embedded PostgreSQL, used when
# DATABASE_URL is unset, keeps its data there.
RUN mkdir -p .data && chown node:node .data
USER node
EXPOSE 3000 50051
# No HEALTHCHECK here: what is healthy depends on SERVICES (the gateway answers HTTP on 3000,
# identity answers gRPC on 50051, other services listen on nothing), so each service's check
# is declared with it in docker-compose.yml.
CMD ["node", "dist/lib/main.js"]
