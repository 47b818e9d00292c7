// Conv1dPass: torch's F.conv1d (kernel, stride, padding, groups) with an optional bias, GELU and residual add.
// Concatenated after model/gelu.wgsl. One invocation per output value, summing in f32.
//
// Input value (channel, time) = input[channel * inChannelStride + time * inTimeStride], zero outside [0, inLength).
// Output value (channel, time) = output[channel * outChannelStride + time * outTimeStride].
// The strides let the same kernel read and write channels-first [C][T] or frames-first [T][C] layouts: the model's
// hidden states are frames-first, so the positional conv and the feature encoder need no transposes.
// weight[outChannel][inChannel within its group][tap], torch's layout.
// Dispatch: (ceil(outLength / 64), outChannels); outLength may be below the padded length (SamePad drops a frame).

struct Conv1dParams {
  inChannels: u32,
  outChannels: u32,
  inLength: u32,
  outLength: u32,
  kernelSize: u32,
  stride: u32,
  padding: u32,
  groups: u32,
  inChannelStride: u32,
  inTimeStride: u32,
  outChannelStride: u32,
  outTimeStride: u32,
  hasBias: u32,
  activation: u32, // ACTIVATION_NONE or ACTIVATION_GELU, after the bias
  accumulate: u32, // 1: add to what the output holds
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
@group(0) @binding(4) var<uniform> params: Conv1dParams;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let time = id.x;
  let outChannel = id.y;
  if (time >= params.outLength || outChannel >= params.outChannels) {
    return;
  }
  let inPerGroup = params.inChannels / params.groups;
  let outPerGroup = params.outChannels / params.groups;
  let firstInChannel = (outChannel / outPerGroup) * inPerGroup;
  // Signed: the first taps of the first outputs fall into the left padding.
  let start = i32(time * params.stride) - i32(params.padding);
  var sum = 0.0;
  for (var channel = 0u; channel < inPerGroup; channel++) {
    let weightBase = (outChannel * inPerGroup + channel) * params.kernelSize;
    let inputBase = (firstInChannel + channel) * params.inChannelStride;
    for (var tap = 0u; tap < params.kernelSize; tap++) {
      let at = start + i32(tap);
      if (at >= 0 && u32(at) < params.inLength) {
        sum = fma(weight[weightBase + tap], input[inputBase + u32(at) * params.inTimeStride], sum);
      }
    }
  }
  if (params.hasBias == 1u) {
    sum += bias[outChannel];
  }
  var value = activate(sum, params.activation);
  let index = outChannel * params.outChannelStride + time * params.outTimeStride;
  if (params.accumulate == 1u) {
    value += output[index];
  }
  output[index] = value;
}
