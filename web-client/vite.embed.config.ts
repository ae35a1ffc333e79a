// The embeddable viewer, <sinopia-viewer>: its own build, beside the app's. One entry with
// a stable name, /embed/sinopia-viewer.js (museum pages load it with a <script
// type="module">, so the name never changes), and hashed chunks beside it that the entry
// loads on demand, relative to its own URL: from Sinopia, whatever page it is on. Built
// after the app (npm run build), into server/webapp/dist/embed.
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const here = import.meta.dirname;

// Yjs marks the page's global object (`globalThis['__ $YJS$ __']`) to warn when two copies
// are loaded. The embed's copy is its own, inside its module graph: on a museum page that
// uses Yjs itself the warning would be false (and an error in the console), and the mark
// is a global we would leak. Only the check and the mark are dropped; the pinned Yjs
// version is what this matches.
const YJS_CHECK = /glo\[importIdentifier\] === true/;
const YJS_MARK = /glo\[importIdentifier\]\s*=\s*true;?/;
const noYjsGlobal = (): Plugin => ({
  name: 'sinopia-embed-no-yjs-global',
  enforce: 'pre',
  transform(code, id) {
    if (!/[\\/]yjs[\\/]dist[\\/]yjs\.mjs$/.test(id)) return null;
    if (!YJS_MARK.test(code) || !YJS_CHECK.test(code)) this.error('Yjs global mark not found: check vite.embed.config.ts');
    return { code: code.replace(YJS_CHECK, 'false').replace(YJS_MARK, ''), map: null };
  },
});

// three.js marks the page (`window.__THREE__ = REVISION`) and warns when it finds the mark
// already there. On a museum page that runs three.js itself (model-viewer, a Sketchfab
// embed) the warning would be false, and the mark is a global we would leak: the 3D
// chunk drops both, nothing else.
const THREE_MARK = /if \( typeof window !== 'undefined' \) \{\s*if \( window\.__THREE__ \) \{[^}]*\} else \{\s*window\.__THREE__ = REVISION;\s*\}\s*\}/;
const noThreeGlobal = (): Plugin => ({
  name: 'sinopia-embed-no-three-global',
  enforce: 'pre',
  transform(code, id) {
    if (!/[\\/]three[\\/]build[\\/]three\.core\.js$/.test(id)) return null;
    if (!THREE_MARK.test(code)) this.error('three.js global mark not found: check vite.embed.config.ts');
    return { code: code.replace(THREE_MARK, ''), map: null };
  },
});

export default defineConfig({
  plugins: [noYjsGlobal(), noThreeGlobal()],
  // Chunks are found relative to the entry's own URL, not the page's.
  base: './',
  build: {
    outDir: resolve(here, '../server/webapp/dist/embed'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: false,
    cssCodeSplit: false,
    rollupOptions: {
      input: { 'sinopia-viewer': resolve(here, 'src/embed/element.ts') },
      preserveEntrySignatures: false,
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: 'chunks/[name]-[hash].js',
        assetFileNames: 'chunks/[name]-[hash][extname]',
      },
    },
  },
});
