# The Sinopia server image: non-root, one volume for the data directory, a health check.
#   docker build -t sinopia .
#   docker run -p 8080:8080 -v sinopia-data:/var/lib/sinopia sinopia
# deploy/compose/compose.yaml runs it with MongoDB and Redis. See docs/running.md.

# The browser app (Vite needs Node 20.19 or later).
FROM node:22-bookworm-slim AS web
WORKDIR /src
COPY web-client/package.json web-client/package-lock.json web-client/
RUN npm ci --prefix web-client
COPY web-client web-client
RUN npm run build --prefix web-client

FROM python:3.12-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/sinopia --shell /usr/sbin/nologin sinopia \
    && install -d -o sinopia -g sinopia -m 0700 /var/lib/sinopia
WORKDIR /opt/sinopia/src
COPY pyproject.toml setup.py README.md MANIFEST.in ./
COPY crdt crdt
COPY annotations annotations
COPY iiif iiif
COPY server server
COPY --from=web /src/server/webapp/dist server/webapp/dist
# The app is built above: the install only packs it.
RUN SINOPIA_SKIP_WEB_BUILD=1 pip install --no-cache-dir . \
    && rm -rf /opt/sinopia/src
WORKDIR /var/lib/sinopia
USER 10001:10001
ENV SINOPIA_DATA_DIR=/var/lib/sinopia \
    SINOPIA_HOST=0.0.0.0 \
    SINOPIA_PORT=8080 \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/sinopia"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["sinopia", "serve"]
