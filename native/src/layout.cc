// Data movement: transpose, slice and concatenation, on elements of 1, 2, 4 or 8 bytes.
#include <omp.h>
#include <cstring>
#include <algorithm>
#include <numeric>
#include "kernels.h"
#include "napi_util.h"

namespace {

template <typename T>
void transposeTyped(const T* x, T* out, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm) {
  const size_t rank = shape.size();
  // Collapse runs of input dimensions that stay adjacent and in order in the output.
  std::vector<int64_t> dims, order;  // collapsed input dims; output order of collapsed dims
  std::vector<int64_t> groupOf(rank);
  {
    std::vector<std::vector<int64_t>> groups;
    for (size_t i = 0; i < rank; i++) {
      if (!groups.empty() && groups.back().back() + 1 == perm[i]) groups.back().push_back(perm[i]);
      else groups.push_back({perm[i]});
    }
    // Groups in input order.
    std::vector<size_t> idx(groups.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return groups[a][0] < groups[b][0]; });
    std::vector<int64_t> inputPos(groups.size());
    for (size_t k = 0; k < idx.size(); k++) {
      int64_t size = 1;
      for (int64_t d : groups[idx[k]]) size *= shape[d];
      dims.push_back(size);
      inputPos[idx[k]] = static_cast<int64_t>(k);
    }
    for (size_t g = 0; g < groups.size(); g++) order.push_back(inputPos[g]);
  }
  const size_t r = dims.size();
  int64_t total = 1;
  for (int64_t d : dims) total *= d;
  if (total == 0) return;
  if (r == 1) {
    std::memcpy(out, x, total * sizeof(T));
    return;
  }
  std::vector<int64_t> inStride(r);
  inStride[r - 1] = 1;
  for (size_t i = r - 1; i-- > 0;) inStride[i] = inStride[i + 1] * dims[i + 1];
  std::vector<int64_t> outDims(r), outInStride(r);
  for (size_t i = 0; i < r; i++) outDims[i] = dims[order[i]], outInStride[i] = inStride[order[i]];
  if (r == 2 || (r == 3 && order[0] == 0)) {
    // [batch,] rows × cols matrix transposes in tiles that stay in cache.
    const int64_t batch = r == 3 ? dims[0] : 1;
    const int64_t rows = dims[r - 2], cols = dims[r - 1];
    constexpr int64_t kTile = 32;
#pragma omp parallel for collapse(2) if (total > (1 << 15)) schedule(static)
    for (int64_t b = 0; b < batch; b++) {
      for (int64_t i0 = 0; i0 < rows; i0 += kTile) {
        const T* xb = x + b * rows * cols;
        T* ob = out + b * rows * cols;
        for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
          const int64_t i1 = std::min(rows, i0 + kTile), j1 = std::min(cols, j0 + kTile);
          for (int64_t i = i0; i < i1; i++)
            for (int64_t j = j0; j < j1; j++) ob[j * rows + i] = xb[i * cols + j];
        }
      }
    }
    return;
  }
  // General case: walk the output; the innermost output dimension strides through the input.
  const int64_t inner = outDims[r - 1], innerStride = outInStride[r - 1];
  const int64_t rowsOut = total / inner;
#pragma omp parallel for if (total > (1 << 15)) schedule(static)
  for (int64_t row = 0; row < rowsOut; row++) {
    int64_t rest = row, off = 0;
    for (size_t d = r - 1; d-- > 0;) {
      off += (rest % outDims[d]) * outInStride[d];
      rest /= outDims[d];
    }
    T* o = out + row * inner;
    const T* s = x + off;
    for (int64_t j = 0; j < inner; j++) o[j] = s[j * innerStride];
  }
}

template <typename F>
void byElementSize(int64_t size, F f) {
  switch (size) {
    case 1: return f(uint8_t{});
    case 2: return f(uint16_t{});
    case 4: return f(uint32_t{});
    case 8: return f(uint64_t{});
  }
  throw std::runtime_error("unsupported element size");
}

}  // namespace

// transpose(x, shape, perm, out, elementBytes)
VK_EXPORT(transpose) {
  const auto shape = args.ints(1), perm = args.ints(2);
  byElementSize(args.integer(4), [&](auto tag) {
    using T = decltype(tag);
    transposeTyped(args.array<T>(0), args.array<T>(3), shape, perm);
  });
}

// slice(x, shape, begin, size, out, elementBytes): a box of x copied into out.
VK_EXPORT(slice) {
  auto shape = args.ints(1), begin = args.ints(2), size = args.ints(3);
  const int64_t bytes = args.integer(5);
  const uint8_t* x = args.array<uint8_t>(0);
  uint8_t* out = args.array<uint8_t>(4);
  const size_t rank = shape.size();
  // Innermost run: trailing dimensions taken whole, plus the first partial one.
  int64_t run = bytes;
  size_t d = rank;
  while (d > 0 && size[d - 1] == shape[d - 1] && begin[d - 1] == 0) run *= shape[--d];
  if (d > 0) run *= size[--d];
  else {
    std::memcpy(out, x, run);
    return;
  }
  // d is the dimension the run starts in; dims [0, d) are walked.
  std::vector<int64_t> stride(rank);
  int64_t s = bytes;
  for (size_t i = rank; i-- > 0;) stride[i] = s, s *= shape[i];
  int64_t base = 0;
  for (size_t i = 0; i < rank; i++) base += begin[i] * stride[i];
  int64_t rows = 1;
  for (size_t i = 0; i < d; i++) rows *= size[i];
#pragma omp parallel for if (rows * run > (1 << 17)) schedule(static)
  for (int64_t row = 0; row < rows; row++) {
    int64_t rest = row, off = base;
    for (size_t i = d; i-- > 0;) {
      off += (rest % size[i]) * stride[i];
      rest /= size[i];
    }
    std::memcpy(out + row * run, x + off, run);
  }
}

// concat(parts[], partInner Int32Array, outer, out, elementBytes): out[o] = parts[0][o] ‖ parts[1][o] ‖ …
// where part i holds rows of partInner[i] elements.
VK_EXPORT(concat) {
  napi_value list = args.at(0);
  uint32_t count;
  napi_get_array_length(args.env, list, &count);
  const auto inner = args.ints(1);
  const int64_t outer = args.integer(2);
  uint8_t* out = args.array<uint8_t>(3);
  const int64_t bytes = args.integer(4);
  std::vector<const uint8_t*> parts(count);
  int64_t rowBytes = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    napi_get_element(args.env, list, i, &item);
    napi_typedarray_type type;
    size_t len, offset;
    void* data;
    napi_value buffer;
    if (napi_get_typedarray_info(args.env, item, &type, &len, &data, &buffer, &offset) != napi_ok)
      throw std::runtime_error("concat: part is not a typed array");
    parts[i] = static_cast<const uint8_t*>(data);
    rowBytes += inner[i] * bytes;
  }
#pragma omp parallel for if (outer * rowBytes > (1 << 17)) schedule(static)
  for (int64_t o = 0; o < outer; o++) {
    uint8_t* dst = out + o * rowBytes;
    for (uint32_t i = 0; i < count; i++) {
      const int64_t n = inner[i] * bytes;
      std::memcpy(dst, parts[i] + o * n, n);
      dst += n;
    }
  }
}
