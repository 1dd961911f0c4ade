// One Adam/AdamW update of a parameter tensor in a single pass, with the same float32 operations
// in the same order as the composed tfjs update (so results are identical, not just close).
#include <omp.h>
#include <cmath>
#include "kernels.h"
#include "napi_util.h"

// adamStep(param, grad, m, v, vMax|null, outParam, outM, outV, outVMax|null, settings Float64Array)
// settings: beta1, beta2, eps, stepSize, biasCorrection2Sqrt, weightDecay, decayFactor (decoupled:
// 1 − lr·wd, else 0), maximize (0/1)
VK_EXPORT(adamStep) {
  size_t n;
  const float* param = args.array<float>(0, &n);
  const float* grad = args.array<float>(1);
  const float* m = args.array<float>(2);
  const float* v = args.array<float>(3);
  const float* vMax = args.isNull(4) ? nullptr : args.array<float>(4);
  float* outParam = args.array<float>(5);
  float* outM = args.array<float>(6);
  float* outV = args.array<float>(7);
  float* outVMax = args.isNull(8) ? nullptr : args.array<float>(8);
  const double* s = args.array<double>(9);
  const float beta1 = static_cast<float>(s[0]), oneMinusBeta1 = static_cast<float>(1 - s[0]);
  const float beta2 = static_cast<float>(s[1]), oneMinusBeta2 = static_cast<float>(1 - s[1]);
  const float eps = static_cast<float>(s[2]), negStepSize = static_cast<float>(-s[3]);
  const float bc2 = static_cast<float>(s[4]), weightDecay = static_cast<float>(s[5]);
  const float decayFactor = static_cast<float>(s[6]);
  const bool decoupled = s[6] != 0, maximize = s[7] != 0, coupled = !decoupled && s[5] != 0;
  const int64_t size = static_cast<int64_t>(n);
#pragma omp parallel for simd if (size > (1 << 16)) schedule(static)
  for (int64_t i = 0; i < size; i++) {
    float g = maximize ? -grad[i] : grad[i];
    float p = param[i];
    if (decoupled) p = p * decayFactor;
    else if (coupled) g = g + p * weightDecay;
    const float mi = m[i] * beta1 + g * oneMinusBeta1;
    const float vi = v[i] * beta2 + (g * oneMinusBeta2) * g;
    float top = vi;
    if (vMax) {
      top = vMax[i] > vi ? vMax[i] : vi;
      outVMax[i] = top;
    }
    const float denom = std::sqrt(top) / bc2 + eps;
    outM[i] = mi;
    outV[i] = vi;
    outParam[i] = p + (mi * negStepSize) / denom;
  }
}
