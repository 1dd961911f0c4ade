// Element-wise kernels: broadcasting binary operations and unary functions on float32.
#include <omp.h>
#include <cmath>
#include <cstring>
#include <limits>
#include "broadcast.h"
#include "kernels.h"
#include "napi_util.h"

namespace {

// Operation codes shared with the TypeScript side (native/elementwise.ts).
enum BinaryOp {
  kAdd = 0, kSub, kMul, kDiv, kMaximum, kMinimum, kSquaredDifference, kPow,
  kGreater, kGreaterEqual, kLess, kLessEqual, kEqual, kNotEqual,
};

constexpr int64_t kParallelMin = 1 << 15;

// The innermost run of one output row: each operand either runs along it or repeats one value.
template <typename Out, typename F>
inline void binaryRun(const float* __restrict pa, const float* __restrict pb, Out* __restrict po, int64_t n, bool ia,
                      bool ib, const F& f) {
  if (ia && ib) {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) po[j] = f(pa[j], pb[j]);
  } else if (ia) {
    const float vb = pb[0];
#pragma omp simd
    for (int64_t j = 0; j < n; j++) po[j] = f(pa[j], vb);
  } else if (ib) {
    const float va = pa[0];
#pragma omp simd
    for (int64_t j = 0; j < n; j++) po[j] = f(va, pb[j]);
  } else {
    const Out v = f(pa[0], pb[0]);
    for (int64_t j = 0; j < n; j++) po[j] = v;
  }
}

// Output rows are the last two collapsed dimensions [mid, inner]; the dimensions before them are
// walked with one index computation per block (a channel-wise product such as [N, H·W, C]·[N, 1, C]
// then costs one loop over H·W rows of C, not an index division per row).
template <typename Out, typename F>
void runBinary(const float* a, const float* b, Out* out, const vk::BroadcastPlan& plan, F f0) {
  if (plan.size == 0) return;
  const size_t rank = plan.dims.size();
  const int64_t inner = plan.dims[rank - 1];
  const bool ia = plan.strideA[rank - 1] != 0, ib = plan.strideB[rank - 1] != 0;
  const int64_t mid = rank >= 2 ? plan.dims[rank - 2] : 1;
  const int64_t midA = rank >= 2 ? plan.strideA[rank - 2] : 0, midB = rank >= 2 ? plan.strideB[rank - 2] : 0;
  const int64_t blocks = plan.size / (inner * mid);
  const int64_t outer = rank >= 2 ? static_cast<int64_t>(rank) - 2 : 0;
  auto offsets = [&](int64_t block, int64_t& offA, int64_t& offB) {
    int64_t rest = block;
    offA = 0, offB = 0;
    for (int64_t d = outer; d-- > 0;) {
      const int64_t idx = rest % plan.dims[d];
      rest /= plan.dims[d];
      offA += idx * plan.strideA[d];
      offB += idx * plan.strideB[d];
    }
  };
  const bool parallel = plan.size > kParallelMin;
  // Parallel over blocks when there are several per thread, else over the rows of each block.
  const bool byBlock = blocks >= 4 * omp_get_max_threads();
#pragma omp parallel if (parallel)
  {
    const F f = f0;  // private copy, as in runUnary
    if (byBlock) {
#pragma omp for schedule(static)
      for (int64_t block = 0; block < blocks; block++) {
        int64_t offA, offB;
        offsets(block, offA, offB);
        for (int64_t row = 0; row < mid; row++)
          binaryRun(a + offA + row * midA, b + offB + row * midB, out + (block * mid + row) * inner, inner, ia, ib, f);
      }
    } else {
      for (int64_t block = 0; block < blocks; block++) {
        int64_t offA, offB;
        offsets(block, offA, offB);
#pragma omp for schedule(static)
        for (int64_t row = 0; row < mid; row++)
          binaryRun(a + offA + row * midA, b + offB + row * midB, out + (block * mid + row) * inner, inner, ia, ib, f);
      }
    }
  }
}

// NaN in either operand gives NaN, as Math.max/Math.min do.
inline float nanOr(float a, float b, float v) {
  return (a == a && b == b) ? v : std::numeric_limits<float>::quiet_NaN();
}

enum UnaryOp {
  kRelu = 0, kExp, kLog, kSigmoid, kTanh, kSqrt, kRsqrt, kNeg, kAbs, kSquare, kReciprocal, kStep, kSign,
  kLog1p, kRelu6, kElu, kLeakyRelu, kFloor, kCeil, kRound, kSin, kCos, kExpm1, kClip, kErf,
};

template <typename F>
void runUnary(const float* __restrict x, float* __restrict out, int64_t n, F f) {
#pragma omp parallel if (n > kParallelMin)
  {
    // A private copy: the outlined region would otherwise reload captured constants through a
    // pointer that may alias `out`, which blocks vectorisation.
    const F g = f;
#pragma omp for simd schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = g(x[i]);
  }
}

}  // namespace

// binary(a, aShape, b, bShape, out, outShape, op); comparison ops write a Uint8Array.
VK_EXPORT(binary) {
  const float* a = args.array<float>(0);
  const float* b = args.array<float>(2);
  vk::BroadcastPlan plan(args.ints(1), args.ints(3), args.ints(5));
  const int op = static_cast<int>(args.integer(6));
  if (op >= kGreater) {
    uint8_t* out = args.array<uint8_t>(4);
    switch (op) {
      case kGreater: return runBinary(a, b, out, plan, [](float x, float y) -> uint8_t { return x > y; });
      case kGreaterEqual: return runBinary(a, b, out, plan, [](float x, float y) -> uint8_t { return x >= y; });
      case kLess: return runBinary(a, b, out, plan, [](float x, float y) -> uint8_t { return x < y; });
      case kLessEqual: return runBinary(a, b, out, plan, [](float x, float y) -> uint8_t { return x <= y; });
      case kEqual: return runBinary(a, b, out, plan, [](float x, float y) -> uint8_t { return x == y; });
      case kNotEqual: return runBinary(a, b, out, plan, [](float x, float y) -> uint8_t { return x != y; });
    }
    throw std::runtime_error("binary: unknown comparison");
  }
  float* out = args.array<float>(4);
  switch (op) {
    case kAdd: return runBinary(a, b, out, plan, [](float x, float y) { return x + y; });
    case kSub: return runBinary(a, b, out, plan, [](float x, float y) { return x - y; });
    case kMul: return runBinary(a, b, out, plan, [](float x, float y) { return x * y; });
    case kDiv: return runBinary(a, b, out, plan, [](float x, float y) { return x / y; });
    case kMaximum: return runBinary(a, b, out, plan, [](float x, float y) { return nanOr(x, y, x > y ? x : y); });
    case kMinimum: return runBinary(a, b, out, plan, [](float x, float y) { return nanOr(x, y, x < y ? x : y); });
    case kSquaredDifference: return runBinary(a, b, out, plan, [](float x, float y) { return (x - y) * (x - y); });
    case kPow: return runBinary(a, b, out, plan, [](float x, float y) { return std::pow(x, y); });
  }
  throw std::runtime_error("binary: unknown operation");
}

// unary(x, out, op, alpha, beta)
VK_EXPORT(unary) {
  size_t n;
  const float* x = args.array<float>(0, &n);
  float* out = args.array<float>(1);
  const int op = static_cast<int>(args.integer(2));
  const float alpha = static_cast<float>(args.number(3));
  const float beta = static_cast<float>(args.number(4));
  const int64_t len = static_cast<int64_t>(n);
  switch (op) {
    case kRelu: return runUnary(x, out, len, [](float v) { return v < 0.f ? 0.f : v; });
    case kExp: return runUnary(x, out, len, [](float v) { return std::exp(v); });
    case kLog: return runUnary(x, out, len, [](float v) { return std::log(v); });
    case kSigmoid: return runUnary(x, out, len, [](float v) { return 1.f / (1.f + std::exp(-v)); });
    case kTanh: return runUnary(x, out, len, [](float v) { return std::tanh(v); });
    case kSqrt: return runUnary(x, out, len, [](float v) { return std::sqrt(v); });
    case kRsqrt: return runUnary(x, out, len, [](float v) { return 1.f / std::sqrt(v); });
    case kNeg: return runUnary(x, out, len, [](float v) { return -v; });
    case kAbs: return runUnary(x, out, len, [](float v) { return std::fabs(v); });
    case kSquare: return runUnary(x, out, len, [](float v) { return v * v; });
    case kReciprocal: return runUnary(x, out, len, [](float v) { return 1.f / v; });
    case kStep:
      return runUnary(x, out, len, [alpha](float v) { const float r = v > 0.f ? 1.f : alpha; return v == v ? r : v; });
    case kSign: return runUnary(x, out, len, [](float v) { return v > 0.f ? 1.f : (v < 0.f ? -1.f : 0.f); });
    case kLog1p: return runUnary(x, out, len, [](float v) { return std::log1p(v); });
    case kRelu6: return runUnary(x, out, len, [](float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); });
    case kElu: return runUnary(x, out, len, [](float v) { return v >= 0.f ? v : std::expm1(v); });
    case kLeakyRelu: return runUnary(x, out, len, [alpha](float v) { return v < 0.f ? alpha * v : v; });
    case kFloor: return runUnary(x, out, len, [](float v) { return std::floor(v); });
    case kCeil: return runUnary(x, out, len, [](float v) { return std::ceil(v); });
    case kRound: return runUnary(x, out, len, [](float v) { return std::nearbyint(v); });
    case kSin: return runUnary(x, out, len, [](float v) { return std::sin(v); });
    case kCos: return runUnary(x, out, len, [](float v) { return std::cos(v); });
    case kExpm1: return runUnary(x, out, len, [](float v) { return std::expm1(v); });
    case kClip:
      return runUnary(x, out, len, [alpha, beta](float v) { const float r = v < alpha ? alpha : (v > beta ? beta : v); return v == v ? r : v; });
    case kErf: return runUnary(x, out, len, [](float v) { return std::erf(v); });
  }
  throw std::runtime_error("unary: unknown operation");
}

// reluGrad(dy, x, out): dy · step(x), as tfjs's Relu gradient computes it (NaN in x gives NaN).
VK_EXPORT(reluGrad) {
  size_t n;
  const float* __restrict dy = args.array<float>(0, &n);
  const float* __restrict x = args.array<float>(1);
  float* __restrict out = args.array<float>(2);
  const int64_t size = static_cast<int64_t>(n);
#pragma omp parallel for simd if (size > kParallelMin) schedule(static)
  for (int64_t i = 0; i < size; i++) {
    const float v = x[i];
    const float step = v > 0.f ? 1.f : 0.f;
    out[i] = dy[i] * (v == v ? step : v);
  }
}
