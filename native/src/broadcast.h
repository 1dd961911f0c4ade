// Shapes of a broadcasting binary operation, reduced to the fewest dimensions that keep each input's
// stride pattern (each input either runs along a dimension or repeats over it).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace vk {

struct BroadcastPlan {
  std::vector<int64_t> dims;     // collapsed output dimensions
  std::vector<int64_t> strideA;  // element strides of a per collapsed dimension (0 = repeated)
  std::vector<int64_t> strideB;
  int64_t size = 1;

  BroadcastPlan(std::vector<int64_t> a, std::vector<int64_t> b, const std::vector<int64_t>& out) {
    const size_t rank = out.size();
    if (a.size() > rank || b.size() > rank) throw std::runtime_error("broadcast: input rank exceeds output rank");
    a.insert(a.begin(), rank - a.size(), 1);
    b.insert(b.begin(), rank - b.size(), 1);
    std::vector<int64_t> d;
    std::vector<int> kind;  // bit 0: a runs, bit 1: b runs
    for (size_t i = 0; i < rank; i++) {
      if (out[i] == 1) continue;
      if ((a[i] != 1 && a[i] != out[i]) || (b[i] != 1 && b[i] != out[i])) throw std::runtime_error("broadcast: shapes do not match");
      int k = (a[i] != 1 ? 1 : 0) | (b[i] != 1 ? 2 : 0);
      if (!d.empty() && kind.back() == k) {
        d.back() *= out[i];
      } else {
        d.push_back(out[i]);
        kind.push_back(k);
      }
    }
    if (d.empty()) {
      d.push_back(1);
      kind.push_back(3);
    }
    dims = d;
    strideA.assign(d.size(), 0);
    strideB.assign(d.size(), 0);
    int64_t sa = 1, sb = 1;
    for (size_t i = d.size(); i-- > 0;) {
      if (kind[i] & 1) strideA[i] = sa, sa *= d[i];
      if (kind[i] & 2) strideB[i] = sb, sb *= d[i];
    }
    for (int64_t v : d) size *= v;
  }
};

}  // namespace vk
