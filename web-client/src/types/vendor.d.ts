// Names vite.config.ts adds to the bundles it rewrites.
import '@annotorious/openseadragon';

declare module '@annotorious/openseadragon' {
  export const __PixiShaderSystem: { prototype: object };
}
