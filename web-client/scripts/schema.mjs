// Regenerates src/generated/schema.ts from annotations/ (python -m annotations.document_schema).
// The file is committed, so a build where Python cannot import annotations (an isolated
// build environment) uses the committed copy; tests/test_webclient_schema.py keeps it current.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const out = resolve(here, '..', 'src', 'generated', 'schema.ts');
const python = process.env.PYTHON ?? (existsSync(resolve(root, '.venv/bin/python')) ? resolve(root, '.venv/bin/python') : 'python3');
const run = spawnSync(python, ['-m', 'annotations.document_schema', '--out', out], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'pipe'],
  encoding: 'utf8',
});
if (run.status !== 0) {
  if (!existsSync(out)) {
    process.stderr.write(run.stderr ?? '');
    process.stderr.write(`cannot generate ${out}: run with a Python that has Sinopia installed (PYTHON=...)\n`);
    process.exit(1);
  }
  process.stderr.write(`annotations/ not importable by ${python}; using the committed src/generated/schema.ts\n`);
}
