// @pixi/unsafe-eval's uniform uploader (aliased in vite.config.ts).
declare module 'pixi-sync-uniforms' {
  export function syncUniforms(group: unknown, uniformData: unknown, ud: unknown, uv: unknown, renderer: unknown): void;
}
