# A Node service the way the deployment guides build it: dependencies in one stage, the
# app on a slim base as an unprivileged user.
FROM node:22.11-alpine3.20 AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:22.11-alpine3.20
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY . .
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=2s CMD ["node", "healthcheck.js"]
CMD ["node", "server.js"]
