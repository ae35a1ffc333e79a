/// <reference types="vitest/config" />
// The app is built into the Python package (server/webapp/dist), which `sinopia serve`
// serves under a strict Content-Security-Policy: no inline scripts or styles, no eval.
import { resolve } from 'node:path';
import { defineConfig, type Plugin, type ProxyOptions } from 'vite';

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

// `npm run preview` serves the built app the way `sinopia serve` does, under the same
// Content-Security-Policy, to catch anything that would need inline code or eval. Image
// service origins for img-src/connect-src: SINOPIA_DEV_IMAGE_ORIGINS (space-separated).
const images = process.env.SINOPIA_DEV_IMAGE_ORIGINS ?? '';
const csp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  `img-src 'self' data: blob: ${images}`,
  `connect-src 'self' ${images}`,
  "font-src 'self'",
  "frame-ancestors 'none'",
].join('; ');
const proxy = {
  '/api': proxied(false),
  '/iiif': proxied(false),
  '/collab': proxied(true),
};

// Annotorious for OpenSeadragon ships PixiJS 7 inside its own bundle, and PixiJS compiles
// shader uniform uploads with `new Function` unless @pixi/unsafe-eval patches its
// ShaderSystem. That class is private to the bundle: this names it as an export, so
// canvas/pixi.ts can apply the same patch (with @pixi/unsafe-eval's own uploader), and the
// page runs under `script-src 'self'`. The pinned Annotorious version is what this matches.
const SHADER_SYSTEM =
  /class (\w+) \{\s*\/\*\* @param renderer - The renderer this System works for\. \*\/\s*constructor\(t\) \{\s*this\.destroyed = !1, this\.renderer = t, this\.systemCheck\(\)/;
// Two more edits to the same file, for speed (bench/webapp.py): Annotorious draws its WebGL
// layer at twice the screen's resolution whatever the screen, four times the pixels to fill
// on a screen of ordinary density (and on a software renderer, every one costs); and it
// resizes that layer when it first sees its size, which reallocates the drawing buffer for
// nothing when the size did not change.
const ANNOTORIOUS_EDITS: { what: string; find: string; replace: string }[] = [
  {
    what: 'the WebGL layer at the resolution of the screen',
    find: 'antialias: !0,\n    resolution: 2\n',
    replace: 'antialias: !0,\n    resolution: Math.min(2, Math.max(1, globalThis.devicePixelRatio || 1))\n',
  },
  {
    what: 'the size the WebGL layer starts with, remembered',
    find: 'k.width = M, k.height = U, k.className = "a9s-gl-canvas"',
    replace: 'k.width = M, k.height = U, k.__size = [M, U], k.className = "a9s-gl-canvas"',
  },
  {
    what: 'no resize of the WebGL layer to the size it has',
    find: 'k.width = B, k.height = F, y.resize(B, F);',
    replace: 'if (k.__size && k.__size[0] === B && k.__size[1] === F) return;\n        k.__size = [B, F], k.width = B, k.height = F, y.resize(B, F);',
  },
];
const pixiWithoutEval = (): Plugin => ({
  name: 'sinopia-pixi-without-eval',
  enforce: 'pre',
  transform(code, id) {
    if (!id.endsWith('annotorious-openseadragon.es.js')) return null;
    const found = SHADER_SYSTEM.exec(code);
    if (!found) this.error('PixiJS ShaderSystem not found in @annotorious/openseadragon: check canvas/pixi.ts');
    let edited = code;
    for (const edit of ANNOTORIOUS_EDITS) {
      if (edited.split(edit.find).length !== 2) this.error(`@annotorious/openseadragon changed: cannot apply "${edit.what}" (vite.config.ts)`);
      edited = edited.replace(edit.find, edit.replace);
    }
    return { code: `${edited}\nexport { ${found[1]} as __PixiShaderSystem };\n`, map: null };
  },
});

export default defineConfig({
  plugins: [pixiWithoutEval()],
  resolve: {
    alias: {
      'pixi-sync-uniforms': resolve(here, 'node_modules/@pixi/unsafe-eval/lib/syncUniforms.mjs'),
    },
  },
  // The transform above must see Annotorious' own file, not a pre-bundled copy.
  optimizeDeps: { exclude: ['@annotorious/openseadragon'] },
  build: {
    outDir: resolve(here, '../server/webapp/dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The subject page's one big chunk is OpenSeadragon + Annotorious (PixiJS); the budget
    // (bench/, 500 KB gzipped for everything the page loads) is checked there.
    chunkSizeWarningLimit: 1500,
    // One entry per page of the product; the embed element (issue 15) adds its own here.
    rollupOptions: {
      input: { app: resolve(here, 'index.html') },
    },
  },
  server: { proxy },
  preview: { proxy, headers: { 'Content-Security-Policy': csp } },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
