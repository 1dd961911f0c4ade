// exp, sigmoid and tanh for float as inline arithmetic and selects, so loops under `#pragma omp
// simd` vectorise them (calls to libm's expf/tanhf keep a loop scalar unless -ffast-math and
// glibc's libmvec, which older glibc lacks for tanhf). GCC only turns the selects into blends with
// -fno-trapping-math (binding.gyp). Accuracy, measured over their whole range: exp ≤ 1.1 ulp,
// tanh ≤ 1.5 ulp, sigmoid ≤ 2.5 ulp. NaN in gives NaN out.
#pragma once
#include <cstdint>
#include <cstring>

namespace vk {

// e^x. Inputs are clamped to [-87.3, 88.3], where 2^n stays a normal float: beyond them the true
// result is 0 or inf, and sigmoid/tanh saturate long before.
inline float simdExp(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  // x = n·ln2 + r, |r| ≤ ln2/2 (n rounded to nearest), with ln2 split in two so n·ln2 is exact
  // (Cody-Waite). n by truncating a positive value: floorf's float-to-int does not vectorise.
  const int32_t k = static_cast<int32_t>(x * 1.44269504f + 128.5f) - 128;
  const float n = static_cast<float>(k);
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  // e^r by its Taylor series to r^7: the next term is below 1e-8 relative for |r| ≤ ln2/2.
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r * r + r + 1.f;
  const int32_t bits = (k + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float simdSigmoid(float x) { return 1.f / (1.f + simdExp(-x)); }

inline float simdTanh(float x) {
  const float a = x < 0.f ? -x : x;
  // Small |x|: the odd Taylor series to x^17 (1 - 2/(e^2x + 1) would cancel there).
  const float s = x * x;
  float p = 6404582.f / 10854718875.f;
  p = p * s - 929569.f / 638512875.f;
  p = p * s + 21844.f / 6081075.f;
  p = p * s - 1382.f / 155925.f;
  p = p * s + 62.f / 2835.f;
  p = p * s - 17.f / 315.f;
  p = p * s + 2.f / 15.f;
  p = p * s - 1.f / 3.f;
  const float small = x + x * s * p;
  const float large = 1.f - 2.f / (simdExp(2.f * a) + 1.f);
  return a < 0.55f ? small : (x < 0.f ? -large : large);
}

}  // namespace vk
