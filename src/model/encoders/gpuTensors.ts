/**
 * Encoder weights on the GPU, uploaded one tensor at a time from an EncoderCheckpoint (so the CPU never holds the
 * whole model), and the scratch buffers of a forward pass.
 */
import { createStorageBuffer, createStorageBufferFrom } from '../../gpu/buffers.ts';
import type { EncoderCheckpoint } from '../checkpoint.ts';

/** Weights uploaded so far, by canonical name (src/model/checkpoint.ts). */
export class GpuWeights {
  readonly #device: GPUDevice;
  readonly #checkpoint: EncoderCheckpoint;
  readonly #buffers = new Map<string, GPUBuffer>();
  readonly #onRead: (bytes: number) => void;

  /** `onRead` hears the float32 bytes of each tensor read (for a progress bar). */
  constructor(device: GPUDevice, checkpoint: EncoderCheckpoint, onRead: (bytes: number) => void = () => {}) {
    this.#device = device;
    this.#checkpoint = checkpoint;
    this.#onRead = onRead;
  }

  /** Reads and uploads the named tensors that are not on the GPU yet. */
  async load(names: readonly string[]): Promise<void> {
    for (const name of names) {
      if (this.#buffers.has(name)) continue;
      const tensor = await this.#checkpoint.readTensor(name);
      this.#buffers.set(name, createStorageBufferFrom(this.#device, `Weights.${name}`, tensor.data));
      this.#onRead(tensor.data.byteLength);
    }
  }

  /** An uploaded tensor. Precondition: load() included it. */
  get(name: string): GPUBuffer {
    const buffer = this.#buffers.get(name);
    if (!buffer) throw new Error(`GpuWeights: ${name} was not loaded`);
    return buffer;
  }

  /** Frees every uploaded tensor except those `keep` accepts. */
  releaseExcept(keep: (name: string) => boolean): void {
    for (const [name, buffer] of [...this.#buffers]) {
      if (keep(name)) continue;
      buffer.destroy();
      this.#buffers.delete(name);
    }
  }

  /** Bytes of weights on the GPU now. */
  get residentBytes(): number {
    let bytes = 0;
    for (const buffer of this.#buffers.values()) bytes += buffer.size;
    return bytes;
  }

  destroy(): void {
    this.releaseExcept(() => false);
  }
}

/** Named scratch buffers of f32 values, made on first use and reused while large enough. */
export class ScratchBuffers {
  readonly #device: GPUDevice;
  readonly #buffers = new Map<string, GPUBuffer>();

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** A buffer of at least `elements` f32 values under `name`. */
  get(name: string, elements: number): GPUBuffer {
    const existing = this.#buffers.get(name);
    if (existing && existing.size >= elements * 4) return existing;
    existing?.destroy();
    const buffer = createStorageBuffer(this.#device, `Scratch.${name}`, elements * 4);
    this.#buffers.set(name, buffer);
    return buffer;
  }

  /** Frees every buffer but those named in `keep` (after a forward pass: what recomputing scores needs). */
  releaseExcept(keep: readonly string[]): void {
    for (const [name, buffer] of [...this.#buffers]) {
      if (keep.includes(name)) continue;
      buffer.destroy();
      this.#buffers.delete(name);
    }
  }

  destroy(): void {
    for (const buffer of this.#buffers.values()) buffer.destroy();
    this.#buffers.clear();
  }
}
