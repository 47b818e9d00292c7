// Non-finite values, decided from the bit pattern. WGSL lets an implementation assume that NaN and infinities never
// occur in floating-point arithmetic (WGSL spec, "Floating Point Evaluation"), so comparisons such as `x != x` may be
// folded away; the bits of a stored value, read through bitcast, cannot be.

const VALUE_FINITE: u32 = 0u;
const VALUE_NAN: u32 = 1u;
const VALUE_POS_INF: u32 = 2u;
const VALUE_NEG_INF: u32 = 3u;

// Bit pattern of the quiet NaN that kernels write (a runtime value: a NaN const-expression is a shader-creation error).
var<private> nanBits: u32 = 0x7fc00000u;

// Which of VALUE_FINITE, VALUE_NAN, VALUE_POS_INF, VALUE_NEG_INF `value` is.
fn classifyValue(value: f32) -> u32 {
  let bits = bitcast<u32>(value);
  if ((bits & 0x7f800000u) != 0x7f800000u) {
    return VALUE_FINITE;
  }
  if ((bits & 0x007fffffu) != 0u) {
    return VALUE_NAN;
  }
  return select(VALUE_POS_INF, VALUE_NEG_INF, (bits & 0x80000000u) != 0u);
}

fn nanValue() -> f32 {
  return bitcast<f32>(nanBits);
}

// a + b with IEEE 754 rules for non-finite operands, whatever the compiler assumes: a NaN operand gives NaN,
// +inf + -inf gives NaN, an infinity plus anything finite is that infinity.
fn ieeeAdd(a: f32, b: f32) -> f32 {
  let classA = classifyValue(a);
  let classB = classifyValue(b);
  if (classA == VALUE_FINITE && classB == VALUE_FINITE) {
    return a + b;
  }
  if (classA == VALUE_NAN || classB == VALUE_NAN) {
    return nanValue();
  }
  if (classA != VALUE_FINITE && classB != VALUE_FINITE && classA != classB) {
    return nanValue();
  }
  return select(b, a, classA != VALUE_FINITE);
}
