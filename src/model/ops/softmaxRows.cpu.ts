/** Reference for SoftmaxRowsPass in float64: torch.softmax(x, dim=-1) of finite rows. */
export function softmaxRowsCpu(values: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const output = new Float64Array(rows * cols);
  for (let row = 0; row < rows; row++) {
    let largest = -Infinity;
    for (let col = 0; col < cols; col++) largest = Math.max(largest, values[row * cols + col]);
    let sum = 0;
    for (let col = 0; col < cols; col++) sum += Math.exp(values[row * cols + col] - largest);
    for (let col = 0; col < cols; col++) output[row * cols + col] = Math.exp(values[row * cols + col] - largest) / sum;
  }
  return output;
}
