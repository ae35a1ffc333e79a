#!/usr/bin/env node
// Loads IIIF documents with @iiif/parser, as IIIF viewers built on it do, and reports what
// it found. Input on stdin: a JSON array of {"name", "json"}. Output on stdout: a JSON
// object name -> {type, id, canvases, pages, annotations, warnings, error}.
//   - normalize(): the parser's full traversal into its entity store (what viewers read);
//   - presentation3StrictUpgrade() (manifests): its warnings about non-conforming input.
import { normalize } from '@iiif/parser'
import { presentation3StrictUpgrade } from '@iiif/parser/strict'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const documents = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const count = (entities, type) => Object.keys(entities[type] ?? {}).length
const out = {}
for (const { name, json } of documents) {
  try {
    const { entities, resource } = normalize(json)
    const report = {
      type: resource?.type ?? null,
      id: resource?.id ?? null,
      canvases: count(entities, 'Canvas'),
      pages: count(entities, 'AnnotationPage'),
      annotations: count(entities, 'Annotation'),
      annotation_ids: Object.keys(entities.Annotation ?? {}),
      warnings: []
    }
    if (json.type === 'Manifest') {
      const state = { warnings: [] }
      presentation3StrictUpgrade(json, state)
      report.warnings = state.warnings
    }
    out[name] = report
  } catch (error) {
    out[name] = { error: String(error && error.stack ? error.stack : error) }
  }
}
process.stdout.write(JSON.stringify(out))
