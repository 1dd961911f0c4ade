// Batched matrix products on OpenBLAS, with tfjs's fused bias and activation.
#include <cblas.h>
#include <algorithm>
#include <cmath>
#include "kernels.h"
#include "napi_util.h"

namespace {

// Activation codes shared with the TypeScript side (native/activation.ts).
enum Activation { kLinear = 0, kRelu = 1, kSigmoid = 2, kTanh = 3 };

void applyBiasActivation(float* out, int64_t rows, int64_t n, const float* bias, int64_t biasSize, int activation) {
  const int64_t total = rows * n;
#pragma omp parallel for if (total > 65536) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    float* row = out + r * n;
    if (bias) {
      if (biasSize == 1) {
        for (int64_t j = 0; j < n; j++) row[j] += bias[0];
      } else {
        for (int64_t j = 0; j < n; j++) row[j] += bias[j];
      }
    }
    switch (activation) {
      case kRelu:
        for (int64_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? 0.f : row[j];
        break;
      case kSigmoid:
        for (int64_t j = 0; j < n; j++) row[j] = 1.f / (1.f + std::exp(-row[j]));
        break;
      case kTanh:
        for (int64_t j = 0; j < n; j++) row[j] = std::tanh(row[j]);
        break;
      default:
        break;
    }
  }
}

}  // namespace

// matmul(a, b, out, batchA, batchB, m, k, n, transA, transB, bias|null, activation)
// a: [batchA, m, k] ([batchA, k, m] when transA); b: [batchB, k, n] ([batchB, n, k] when transB);
// out: [max(batchA, batchB), m, n]. A batch of 1 broadcasts.
VK_EXPORT(matmul) {
  const float* a = args.array<float>(0);
  const float* b = args.array<float>(1);
  float* out = args.array<float>(2);
  const int64_t batchA = args.integer(3), batchB = args.integer(4);
  const int64_t m = args.integer(5), k = args.integer(6), n = args.integer(7);
  const bool transA = args.integer(8) != 0, transB = args.integer(9) != 0;
  size_t biasSize = 0;
  const float* bias = args.isNull(10) ? nullptr : args.array<float>(10, &biasSize);
  const int activation = static_cast<int>(args.integer(11));
  if (batchA != batchB && batchA != 1 && batchB != 1) throw std::runtime_error("matmul: batch sizes do not broadcast");
  const int64_t batch = std::max(batchA, batchB);
  if (m * n == 0) return;
  if (k == 0) {
    std::fill(out, out + batch * m * n, 0.f);
  } else if (batchB == 1 && !transA) {
    // One product: A's batches stacked as rows.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans, batch * m, n, k, 1.f, a, k, b,
                transB ? k : n, 0.f, out, n);
  } else {
    for (int64_t i = 0; i < batch; i++) {
      const float* ai = a + (batchA == 1 ? 0 : i) * m * k;
      const float* bi = b + (batchB == 1 ? 0 : i) * k * n;
      cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, 1.f,
                  ai, transA ? m : k, bi, transB ? k : n, 0.f, out + i * m * n, n);
    }
  }
  if (bias || activation != kLinear) applyBiasActivation(out, batch * m, n, bias, static_cast<int64_t>(biasSize), activation);
}
