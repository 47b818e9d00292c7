/**
 * Every model kernel for one device, compiled together: what an encoder's forward pass needs.
 */
import { PackFloat16Pass } from '../../gpu/packFloat16.ts';
import type { ShaderSources } from '../../gpu/pipeline.ts';
import { Conv1dPass } from './conv1d.ts';
import { ElementwisePass } from './elementwise.ts';
import { MatmulPass } from './matmul.ts';
import { NormalizePass } from './normalize.ts';
import { SoftmaxRowsPass } from './softmaxRows.ts';

export class ModelPasses {
  readonly device: GPUDevice;
  readonly matmul: MatmulPass;
  readonly conv1d: Conv1dPass;
  readonly normalize: NormalizePass;
  readonly elementwise: ElementwisePass;
  readonly softmaxRows: SoftmaxRowsPass;
  readonly packFloat16: PackFloat16Pass;

  private constructor(device: GPUDevice, shaders: ShaderSources, packFloat16: PackFloat16Pass) {
    this.device = device;
    this.matmul = new MatmulPass(device, shaders);
    this.conv1d = new Conv1dPass(device, shaders);
    this.normalize = new NormalizePass(device, shaders);
    this.elementwise = new ElementwisePass(device, shaders);
    this.softmaxRows = new SoftmaxRowsPass(device, shaders);
    this.packFloat16 = packFloat16;
  }

  /** Creates and compiles every pass. */
  static async create(device: GPUDevice, shaders: ShaderSources): Promise<ModelPasses> {
    const passes = new ModelPasses(device, shaders, await PackFloat16Pass.create(device, shaders));
    await Promise.all(passes.#kernels().map((pass) => pass.ready()));
    return passes;
  }

  #kernels() {
    return [this.matmul, this.conv1d, this.normalize, this.elementwise, this.softmaxRows];
  }

  destroy(): void {
    for (const pass of this.#kernels()) pass.destroy();
    this.packFloat16.destroy();
  }
}
