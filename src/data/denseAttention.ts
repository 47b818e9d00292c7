/**
 * The AttentionSource every reader returns: values stored densely in C order, one layer after another, read one
 * head or one layer at a time. Readers differ only in where each layer's bytes start (one stacked array in a
 * .npy, one array per layer in a .npz or .safetensors), which they describe with locateLayer().
 */
import type { ByteSource } from './byteSource.ts';
import { ELEMENT_BYTES, decodeElements, type ElementEncoding } from './elements.ts';
import { check } from './inputError.ts';
import { readBytes, readBytesInto } from './safeRead.ts';
import type { AttentionMetadata, AttentionShape, AttentionSource } from './tensor.ts';

/** Where one layer's heads x rows x cols values begin. */
export interface LayerLocation {
  readonly source: ByteSource;
  /** Byte offset of the layer's first value in `source`. */
  readonly offset: number;
}

/** Everything makeDenseAttentionSource needs. Sizes must already have been checked against the file. */
export interface DenseAttentionSpec {
  readonly fileName: string;
  readonly shape: AttentionShape;
  readonly encoding: ElementEncoding;
  readonly metadata: AttentionMetadata;
  /** Where layer `layer` (already range-checked) starts. */
  locateLayer(layer: number): LayerLocation;
}

/**
 * An AttentionSource that reads exactly one map (readHead) or one layer (readLayer) per call.
 * Little-endian float32 data comes back as a view on the bytes read when aligned: treat results as read-only.
 */
export function makeDenseAttentionSource(spec: DenseAttentionSpec): AttentionSource {
  const { fileName, shape, encoding } = spec;
  const elementBytes = ELEMENT_BYTES[encoding.dtype];
  const mapBytes = shape.rows * shape.cols * elementBytes;
  const layerValues = shape.heads * shape.rows * shape.cols;
  return {
    fileName,
    shape,
    dtype: encoding.dtype,
    metadata: spec.metadata,
    async readHead(layer, head) {
      checkIndex(fileName, 'layer', layer, shape.layers);
      checkIndex(fileName, 'head', head, shape.heads);
      const { source, offset } = spec.locateLayer(layer);
      const bytes = await readBytes(source, offset + head * mapBytes, mapBytes, `layer ${layer} head ${head}`);
      return decodeElements(bytes, encoding);
    },
    async readLayer(layer) {
      checkIndex(fileName, 'layer', layer, shape.layers);
      const { source, offset } = spec.locateLayer(layer);
      const bytes = await readBytes(source, offset, shape.heads * mapBytes, `layer ${layer}`);
      return decodeElements(bytes, encoding);
    },
    stored: {
      dtype: encoding.dtype,
      littleEndian: encoding.littleEndian,
      async readInto(layer, firstValue, target) {
        checkIndex(fileName, 'layer', layer, shape.layers);
        const count = target.byteLength / elementBytes;
        check(
          Number.isInteger(firstValue) && firstValue >= 0 && Number.isInteger(count) && firstValue + count <= layerValues,
          fileName,
          'out-of-range',
          () => `values ${firstValue}..${firstValue + count} of layer ${layer} do not exist: a layer has ${layerValues}`,
        );
        const { source, offset } = spec.locateLayer(layer);
        await readBytesInto(source, offset + firstValue * elementBytes, target, `layer ${layer} values ${firstValue}..${firstValue + count}`);
      },
    },
  };
}

function checkIndex(fileName: string, axis: string, index: number, count: number): void {
  check(
    Number.isInteger(index) && index >= 0 && index < count,
    fileName,
    'out-of-range',
    () => `${axis} ${index} does not exist: the tensor has ${count} ${axis}s (0..${count - 1})`,
  );
}
