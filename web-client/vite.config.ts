/// <reference types="vitest/config" />
// The app is built into the Python package (server/webapp/dist), which `sinopia serve`
// serves under a strict Content-Security-Policy: no inline scripts or styles, no eval.
import { resolve } from 'node:path';
import { defineConfig, type ProxyOptions } from 'vite';

const here = import.meta.dirname;

// Development only: `npm run dev` proxies the API, IIIF and websocket to a running
// `sinopia serve` (SINOPIA_DEV_SERVER, default http://127.0.0.1:8080) and, until you sign
// in with a link, adds SINOPIA_DEV_TOKEN as a bearer token. Never part of the built app.
const server = process.env.SINOPIA_DEV_SERVER ?? 'http://127.0.0.1:8080';
const token = process.env.SINOPIA_DEV_TOKEN;
const proxied = (ws: boolean): ProxyOptions => ({
  target: server,
  changeOrigin: false,
  ws,
  headers: token ? { Authorization: `Bearer ${token}` } : {},
});

export default defineConfig({
  build: {
    outDir: resolve(here, '../server/webapp/dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One entry per page of the product; the embed element (issue 15) adds its own here.
    rollupOptions: {
      input: { app: resolve(here, 'index.html') },
    },
  },
  server: {
    proxy: {
      '/api': proxied(false),
      '/iiif': proxied(false),
      '/collab': proxied(true),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
