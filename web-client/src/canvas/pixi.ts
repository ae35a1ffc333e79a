// Lets Annotorious' PixiJS run without eval (see vite.config.ts): the patch @pixi/unsafe-eval
// applies to its own PixiJS, applied to the copy inside Annotorious.

import { __PixiShaderSystem as ShaderSystem } from '@annotorious/openseadragon';
import { syncUniforms } from 'pixi-sync-uniforms';

interface Program {
  uniformData: unknown;
}
interface ShaderSystemLike {
  shader: { program: Program };
  renderer: unknown;
}

Object.assign(ShaderSystem.prototype, {
  systemCheck() {},
  syncUniforms(this: ShaderSystemLike, group: { uniforms: unknown }, glProgram: Program) {
    syncUniforms(group, this.shader.program.uniformData, glProgram.uniformData, group.uniforms, this.renderer);
  },
});
