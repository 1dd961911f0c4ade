// Training-mode batch normalisation over the last axis of channels-last activations, forward and
// backward in two passes each (the composed tfjs version makes ~10 passes forward and ~20 back).
// Statistics accumulate in double per channel, per thread, then combine.
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <vector>
#include "kernels.h"
#include "napi_util.h"

namespace {

// Per-channel sums of f(row, channel) over rows, in double.
template <typename F>
void channelSums(int64_t rows, int64_t channels, std::vector<double>& out, F f) {
  out.assign(channels, 0.0);
  const bool parallel = rows * channels > (1 << 15);
#pragma omp parallel if (parallel)
  {
    std::vector<double> local(channels, 0.0);
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < rows; r++) f(r, local.data());
#pragma omp critical
    for (int64_t c = 0; c < channels; c++) out[c] += local[c];
  }
}

}  // namespace

// batchNormTraining(x, scale, offset, y, mean, variance, channels, epsilon)
// mean/variance: the batch statistics (biased variance), written for the running averages.
VK_EXPORT(batchNormTraining) {
  size_t size;
  const float* x = args.array<float>(0, &size);
  const float* scale = args.array<float>(1);
  const float* offset = args.array<float>(2);
  float* y = args.array<float>(3);
  float* meanOut = args.array<float>(4);
  float* varianceOut = args.array<float>(5);
  const int64_t channels = args.integer(6);
  const double epsilon = args.number(7);
  const int64_t rows = static_cast<int64_t>(size) / channels;
  // One pass for both moments, in double: E[x²] − mean² loses nothing at float32 precision unless
  // |mean| exceeds the standard deviation by ~10⁴, which activations entering a BatchNorm do not.
  std::vector<double> moments;  // [Σx | Σx²] per channel
  channelSums(rows, 2 * channels, moments, [&](int64_t r, double* acc) {
    const float* p = x + r * channels;
    for (int64_t c = 0; c < channels; c++) {
      const double v = p[c];
      acc[c] += v;
      acc[channels + c] += v * v;
    }
  });
  std::vector<float> mean(channels);
  std::vector<double> squares(channels);
  for (int64_t c = 0; c < channels; c++) {
    const double m = moments[c] / static_cast<double>(rows);
    mean[c] = static_cast<float>(m);
    squares[c] = std::max(0.0, moments[channels + c] - m * moments[c]);
  }
  std::vector<float> mul(channels), add(channels);
  for (int64_t c = 0; c < channels; c++) {
    const double variance = squares[c] / static_cast<double>(rows);
    meanOut[c] = mean[c];
    varianceOut[c] = static_cast<float>(variance);
    const double invStd = 1.0 / std::sqrt(static_cast<double>(varianceOut[c]) + epsilon);
    mul[c] = static_cast<float>(invStd * scale[c]);
    add[c] = static_cast<float>(offset[c] - mean[c] * invStd * scale[c]);
  }
#pragma omp parallel for if (rows * channels > (1 << 15)) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict p = x + r * channels;
    float* __restrict q = y + r * channels;
#pragma omp simd
    for (int64_t c = 0; c < channels; c++) q[c] = p[c] * mul[c] + add[c];
  }
}

// batchNormTrainingGrad(dy, x, mean, variance, scale, dMean, dVariance, dx, dScale, dOffset, channels, epsilon)
// The full derivative through the batch statistics (as autodiff of the composed version gives),
// plus any gradient arriving at the mean/variance outputs.
VK_EXPORT(batchNormTrainingGrad) {
  size_t size;
  const float* dy = args.array<float>(0, &size);
  const float* x = args.array<float>(1);
  const float* mean = args.array<float>(2);
  const float* variance = args.array<float>(3);
  const float* scale = args.array<float>(4);
  const float* dMean = args.array<float>(5);
  const float* dVariance = args.array<float>(6);
  float* dx = args.array<float>(7);
  float* dScale = args.array<float>(8);
  float* dOffset = args.array<float>(9);
  const int64_t channels = args.integer(10);
  const double epsilon = args.number(11);
  const int64_t rows = static_cast<int64_t>(size) / channels;
  std::vector<float> invStd(channels);
  for (int64_t c = 0; c < channels; c++) invStd[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(variance[c]) + epsilon));
  std::vector<double> sums;  // [Σdy | Σdy·x̂] per channel
  channelSums(rows, 2 * channels, sums, [&](int64_t r, double* acc) {
    const float* g = dy + r * channels;
    const float* p = x + r * channels;
    for (int64_t c = 0; c < channels; c++) {
      acc[c] += g[c];
      acc[channels + c] += static_cast<double>(g[c]) * ((p[c] - mean[c]) * invStd[c]);
    }
  });
  const double m = static_cast<double>(rows);
  std::vector<float> a(channels), b(channels), k(channels), extra(channels), varTerm(channels);
  for (int64_t c = 0; c < channels; c++) {
    dOffset[c] = static_cast<float>(sums[c]);
    dScale[c] = static_cast<float>(sums[channels + c]);
    // dx = scale·invStd·(dy − Σdy/M − x̂·Σdy·x̂/M) + dMean/M + dVariance·2(x − mean)/M
    const double si = static_cast<double>(scale[c]) * invStd[c];
    a[c] = static_cast<float>(si);
    b[c] = static_cast<float>(si * sums[c] / m);
    k[c] = static_cast<float>(si * sums[channels + c] / m * invStd[c]);
    varTerm[c] = static_cast<float>(2.0 * dVariance[c] / m);
    extra[c] = static_cast<float>(dMean[c] / m);
  }
#pragma omp parallel for if (rows * channels > (1 << 15)) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict g = dy + r * channels;
    const float* __restrict p = x + r * channels;
    float* __restrict q = dx + r * channels;
#pragma omp simd
    for (int64_t c = 0; c < channels; c++) {
      const float centred = p[c] - mean[c];
      q[c] = a[c] * g[c] - b[c] - k[c] * centred + varTerm[c] * centred + extra[c];
    }
  }
}
