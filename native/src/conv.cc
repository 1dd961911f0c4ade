// 2-D convolution and its two gradients on oneDNN, in tfjs's layouts: activations NHWC, filters
// HWIO. Activations stay in NHWC (oneDNN has native NHWC kernels, so no reorder per call); only the
// small filter tensor is reordered to the primitive's preferred blocked layout. Primitives are
// JIT-compiled once per shape and cached.
#include <dnnl.hpp>
#include <memory>
#include <string>
#include <algorithm>
#include <unordered_map>
#include <vector>
#include "kernels.h"
#include "napi_util.h"

using namespace dnnl;

namespace {

engine& cpuEngine() {
  static engine eng(engine::kind::cpu, 0);
  return eng;
}

stream& cpuStream() {
  static stream s(cpuEngine());
  return s;
}

// Geometry as packed by the TypeScript side (native/conv.ts).
struct Geometry {
  int64_t n, h, w, c, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  explicit Geometry(const std::vector<int64_t>& p) {
    if (p.size() != 17) throw std::runtime_error("conv2d: geometry needs 17 values");
    n = p[0], h = p[1], w = p[2], c = p[3], oh = p[4], ow = p[5], oc = p[6], kh = p[7], kw = p[8];
    sh = p[9], sw = p[10], dh = p[11], dw = p[12], pt = p[13], pl = p[14], pb = p[15], pr = p[16];
  }
  std::string key() const {
    std::string k;
    for (int64_t v : {n, h, w, c, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr}) k += std::to_string(v) + ",";
    return k;
  }
  memory::desc src() const { return {{n, c, h, w}, memory::data_type::f32, memory::format_tag::nhwc}; }
  memory::desc dst() const { return {{n, oc, oh, ow}, memory::data_type::f32, memory::format_tag::nhwc}; }
  memory::desc userWeights() const { return {{oc, c, kh, kw}, memory::data_type::f32, memory::format_tag::hwio}; }
  memory::desc anyWeights() const { return {{oc, c, kh, kw}, memory::data_type::f32, memory::format_tag::any}; }
  memory::desc bias() const { return {{oc}, memory::data_type::f32, memory::format_tag::x}; }
  memory::dims strides() const { return {sh, sw}; }
  // oneDNN counts dilation from 0 (tfjs from 1).
  memory::dims dilations() const { return {dh - 1, dw - 1}; }
  memory::dims padL() const { return {pt, pl}; }
  memory::dims padR() const { return {pb, pr}; }

  convolution_forward::desc forwardDesc(bool withBias) const {
    if (withBias)
      return convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src(), anyWeights(),
                                       bias(), dst(), strides(), dilations(), padL(), padR());
    return convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src(), anyWeights(), dst(),
                                     strides(), dilations(), padL(), padR());
  }
};

// Runs a reorder between a user buffer and a primitive's layout when they differ.
struct Relayout {
  bool needed = false;
  memory::desc from, to;
  std::unique_ptr<reorder> op;
  std::unique_ptr<memory> scratch;
  void init(const memory::desc& user, const memory::desc& primitive, bool toPrimitive) {
    needed = user != primitive;
    if (!needed) return;
    from = toPrimitive ? user : primitive;
    to = toPrimitive ? primitive : user;
    op = std::make_unique<reorder>(reorder::primitive_desc(cpuEngine(), from, cpuEngine(), to));
    scratch = std::make_unique<memory>(primitive, cpuEngine());
  }
};

struct Forward {
  convolution_forward::primitive_desc pd;
  convolution_forward op;
  Relayout weights;
};

struct BackwardData {
  convolution_backward_data::primitive_desc pd;
  convolution_backward_data op;
  Relayout weights;
};

struct BackwardWeights {
  convolution_backward_weights::primitive_desc pd;
  convolution_backward_weights op;
  Relayout weights;
  Relayout src, diffDst;  // strided convolutions only (blocked layouts)
};

template <typename T>
std::unordered_map<std::string, std::unique_ptr<T>>& cache() {
  static std::unordered_map<std::string, std::unique_ptr<T>> entries;
  return entries;
}

Forward& forward(const Geometry& g, bool withBias, bool relu) {
  auto& entries = cache<Forward>();
  const std::string key = g.key() + (withBias ? "b" : "") + (relu ? "r" : "");
  auto it = entries.find(key);
  if (it != entries.end()) return *it->second;
  primitive_attr attr;
  if (relu) {
    post_ops ops;
    ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  auto pd = convolution_forward::primitive_desc(g.forwardDesc(withBias), attr, cpuEngine());
  auto entry = std::unique_ptr<Forward>(new Forward{pd, convolution_forward(pd), {}});
  entry->weights.init(g.userWeights(), pd.weights_desc(), true);
  return *entries.emplace(key, std::move(entry)).first->second;
}

}  // namespace

// conv2d(x, filter, out, geometry Int32Array, bias|null, relu 0|1)
VK_EXPORT(conv2d) {
  Geometry g(args.ints(3));
  const bool withBias = !args.isNull(4);
  Forward& f = forward(g, withBias, args.integer(5) != 0);
  memory src(g.src(), cpuEngine(), args.array<float>(0));
  memory userW(g.userWeights(), cpuEngine(), args.array<float>(1));
  memory dst(g.dst(), cpuEngine(), args.array<float>(2));
  stream& s = cpuStream();
  memory w = userW;
  if (f.weights.needed) {
    f.weights.op->execute(s, userW, *f.weights.scratch);
    w = *f.weights.scratch;
  }
  std::unordered_map<int, memory> io{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}};
  if (withBias) io.emplace(DNNL_ARG_BIAS, memory(g.bias(), cpuEngine(), args.array<float>(4)));
  f.op.execute(s, io);
  s.wait();
}

// conv2dBackpropInput(dy, filter, dx, geometry)
VK_EXPORT(conv2dBackpropInput) {
  Geometry g(args.ints(3));
  auto& entries = cache<BackwardData>();
  const std::string key = g.key();
  auto it = entries.find(key);
  if (it == entries.end()) {
    auto hint = convolution_forward::primitive_desc(g.forwardDesc(false), cpuEngine());
    auto desc = convolution_backward_data::desc(algorithm::convolution_direct, g.src(), g.anyWeights(), g.dst(), g.strides(),
                                                g.dilations(), g.padL(), g.padR());
    auto pd = convolution_backward_data::primitive_desc(desc, cpuEngine(), hint);
    auto entry = std::unique_ptr<BackwardData>(new BackwardData{pd, convolution_backward_data(pd), {}});
    entry->weights.init(g.userWeights(), pd.weights_desc(), true);
    it = entries.emplace(key, std::move(entry)).first;
  }
  BackwardData& b = *it->second;
  memory diffDst(g.dst(), cpuEngine(), args.array<float>(0));
  memory userW(g.userWeights(), cpuEngine(), args.array<float>(1));
  memory diffSrc(g.src(), cpuEngine(), args.array<float>(2));
  stream& s = cpuStream();
  memory w = userW;
  if (b.weights.needed) {
    b.weights.op->execute(s, userW, *b.weights.scratch);
    w = *b.weights.scratch;
  }
  b.op.execute(s, {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, diffSrc}});
  s.wait();
}


// conv2dBackpropFilter(x, dy, dw, geometry)
VK_EXPORT(conv2dBackpropFilter) {
  Geometry g(args.ints(3));
  // Strided: oneDNN 2.6's NHWC filter-gradient kernels write outside their buffers (heap corruption
  // seen on 3×3 and 1×1 stride-2 layers), so those take the blocked layouts oneDNN picks itself (the
  // path PyTorch uses), with activations reordered in and out.
  const bool blocked = g.sh > 1 || g.sw > 1;
  auto& entries = cache<BackwardWeights>();
  const std::string key = g.key();
  auto it = entries.find(key);
  if (it == entries.end()) {
    const memory::desc anySrc({g.n, g.c, g.h, g.w}, memory::data_type::f32, memory::format_tag::any);
    const memory::desc anyDst({g.n, g.oc, g.oh, g.ow}, memory::data_type::f32, memory::format_tag::any);
    const memory::desc src = blocked ? anySrc : g.src(), dst = blocked ? anyDst : g.dst();
    auto hintDesc = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src,
                                              g.anyWeights(), dst, g.strides(), g.dilations(), g.padL(), g.padR());
    auto hint = convolution_forward::primitive_desc(hintDesc, cpuEngine());
    auto desc = convolution_backward_weights::desc(algorithm::convolution_direct, src, g.anyWeights(), dst, g.strides(),
                                                   g.dilations(), g.padL(), g.padR());
    auto pd = convolution_backward_weights::primitive_desc(desc, cpuEngine(), hint);
    auto entry = std::unique_ptr<BackwardWeights>(new BackwardWeights{pd, convolution_backward_weights(pd), {}, {}, {}});
    entry->weights.init(g.userWeights(), pd.diff_weights_desc(), false);
    entry->src.init(g.src(), pd.src_desc(), true);
    entry->diffDst.init(g.dst(), pd.diff_dst_desc(), true);
    it = entries.emplace(key, std::move(entry)).first;
  }
  BackwardWeights& b = *it->second;
  stream& s = cpuStream();
  memory src(g.src(), cpuEngine(), args.array<float>(0));
  memory diffDst(g.dst(), cpuEngine(), args.array<float>(1));
  memory userDiffW(g.userWeights(), cpuEngine(), args.array<float>(2));
  if (b.src.needed) {
    b.src.op->execute(s, src, *b.src.scratch);
    src = *b.src.scratch;
  }
  if (b.diffDst.needed) {
    b.diffDst.op->execute(s, diffDst, *b.diffDst.scratch);
    diffDst = *b.diffDst.scratch;
  }
  memory dw = b.weights.needed ? *b.weights.scratch : userDiffW;
  b.op.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, dw}});
  if (b.weights.needed) b.weights.op->execute(s, *b.weights.scratch, userDiffW);
  s.wait();
}
