// Reductions over any set of axes. Axes are collapsed to the pattern [outer, reduced, inner]
// when they are adjacent; other sets are first transposed so the reduced axes come last.
// Sums accumulate in double, as voxkit's float64 Sum/Mean kernels on wasm do.
#include <omp.h>
#include <cmath>
#include <algorithm>
#include <limits>
#include <vector>
#include "kernels.h"
#include "napi_util.h"

namespace {

// Operation codes shared with the TypeScript side (native/reduce.ts).
enum ReduceOp { kSum = 0, kMean, kMax, kMin, kProd, kArgMax, kArgMin };

template <typename Out>
void reduce3(const float* x, Out* out, int64_t outer, int64_t count, int64_t inner, int op) {
  const int64_t total = outer * count * inner;
  const bool parallel = total > (1 << 15);
  if (inner == 1) {
#pragma omp parallel for if (parallel) schedule(static)
    for (int64_t o = 0; o < outer; o++) {
      const float* p = x + o * count;
      switch (op) {
        case kSum:
        case kMean: {
          double acc = 0;
          for (int64_t r = 0; r < count; r++) acc += p[r];
          out[o] = static_cast<Out>(op == kMean ? acc / static_cast<double>(count) : acc);
          break;
        }
        case kProd: {
          double acc = 1;
          for (int64_t r = 0; r < count; r++) acc *= p[r];
          out[o] = static_cast<Out>(acc);
          break;
        }
        case kMax:
        case kMin: {
          float best = p[0];
          for (int64_t r = 1; r < count; r++) {
            const float v = p[r];
            if (std::isnan(v) || (op == kMax ? v > best : v < best)) best = v;
          }
          out[o] = static_cast<Out>(best);
          break;
        }
        case kArgMax:
        case kArgMin: {
          float best = p[0];
          int64_t at = 0;
          for (int64_t r = 1; r < count; r++) {
            if (op == kArgMax ? p[r] > best : p[r] < best) best = p[r], at = r;
          }
          out[o] = static_cast<Out>(at);
          break;
        }
      }
    }
    return;
  }
#pragma omp parallel if (parallel)
  {
    std::vector<double> acc(inner);
    std::vector<float> best(inner);
    std::vector<int64_t> at(inner);
#pragma omp for schedule(static)
    for (int64_t o = 0; o < outer; o++) {
      const float* base = x + o * count * inner;
      Out* dst = out + o * inner;
      switch (op) {
        case kSum:
        case kMean:
        case kProd: {
          const double init = op == kProd ? 1.0 : 0.0;
          std::fill(acc.begin(), acc.end(), init);
          for (int64_t r = 0; r < count; r++) {
            const float* p = base + r * inner;
            if (op == kProd)
              for (int64_t i = 0; i < inner; i++) acc[i] *= p[i];
            else
              for (int64_t i = 0; i < inner; i++) acc[i] += p[i];
          }
          const double scale = op == kMean ? 1.0 / static_cast<double>(count) : 1.0;
          for (int64_t i = 0; i < inner; i++) dst[i] = static_cast<Out>(op == kMean ? acc[i] * scale : acc[i]);
          break;
        }
        default: {
          const bool isMax = op == kMax || op == kArgMax;
          for (int64_t i = 0; i < inner; i++) best[i] = base[i], at[i] = 0;
          for (int64_t r = 1; r < count; r++) {
            const float* p = base + r * inner;
            for (int64_t i = 0; i < inner; i++) {
              const float v = p[i];
              const bool better = isMax ? v > best[i] : v < best[i];
              const bool nan = (op == kMax || op == kMin) && std::isnan(v);
              if (better || nan) best[i] = v, at[i] = r;
            }
          }
          for (int64_t i = 0; i < inner; i++)
            dst[i] = static_cast<Out>((op == kArgMax || op == kArgMin) ? static_cast<float>(at[i]) : best[i]);
          break;
        }
      }
    }
  }
}

}  // namespace

// reduce(x, shape, axes, out, op): the axes must be adjacent (the TypeScript side transposes
// other sets first); ArgMax/ArgMin write an Int32Array.
VK_EXPORT(reduce) {
  const float* x = args.array<float>(0);
  const auto shape = args.ints(1), axes = args.ints(2);
  const int op = static_cast<int>(args.integer(4));
  int64_t outer = 1, count = 1, inner = 1;
  if (axes.empty()) throw std::runtime_error("reduce: no axes");
  const int64_t first = axes.front(), last = axes.back();
  if (last - first + 1 != static_cast<int64_t>(axes.size())) throw std::runtime_error("reduce: axes must be adjacent");
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); i++) {
    if (i < first) outer *= shape[i];
    else if (i <= last) count *= shape[i];
    else inner *= shape[i];
  }
  if (count == 0) throw std::runtime_error("reduce: empty reduction");
  if (op == kArgMax || op == kArgMin) reduce3(x, args.array<int32_t>(3), outer, count, inner, op);
  else reduce3(x, args.array<float>(3), outer, count, inner, op);
}
