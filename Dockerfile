# syntax=docker/dockerfile:1
# One image for every AIRE process; the command chooses which (deploy/docker/entrypoint.sh):
#   api | worker | setup [tenant] | aire <cli args…>
# Built and run by docker-compose.yml; see the README's "Deployment" section.

# The exact Node.js release the project is developed and tested on (Debian 12 "bookworm", glibc,
# which the Temporal SDK's prebuilt native core needs).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

##### build: compile TypeScript to dist/, then keep only the runtime dependencies #####
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install` rather than `npm ci`: see ensure_node_modules in scripts/lib.sh.
RUN npm install --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-build-assets.js ./scripts/
COPY db ./db
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund --loglevel=error

##### runtime #####
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY runbooks ./runbooks
COPY rules ./rules
COPY deploy/docker/entrypoint.sh /usr/local/bin/aire-entrypoint
# The setup command writes the first admin key here (a volume in docker-compose.yml).
RUN chmod 0755 /usr/local/bin/aire-entrypoint && mkdir -p /var/lib/aire && chown node:node /var/lib/aire
# The official image's unprivileged user (uid 1000); nothing here needs root.
USER node
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/aire-entrypoint"]
CMD ["api"]
