// The LSTM recurrence of one layer and its gradient, every time step in one call (the kernels
// VoxkitLstmRecurrence and VoxkitLstmRecurrenceGrad, src/core/fused-kernels.ts).
// Time-major [steps·batch, ·] rows; gate columns i, f, g, o as in PyTorch. One sgemm per step for
// the h·W_hh term, the gate maths fused into one pass over batch·H.
#include <cblas.h>
#include <cstring>
#include "kernels.h"
#include "napi_util.h"
#include "simd_math.h"

namespace {

// Below this many cells per step a parallel region costs more than the gate maths.
constexpr int64_t kParallelMin = 8192;

}  // namespace

// lstmForward(projected, weightHhT, h0, c0, outputs, h, c, gates, cells, steps, batch, hidden)
// projected, gates: [steps·batch, 4H]; weightHhT: [H, 4H]; h0, c0, h, c: [batch, H];
// outputs, cells: [steps·batch, H]. gates receives the activated gates, cells every c_t.
VK_EXPORT(lstmForward) {
  const float* projected = args.array<float>(0);
  const float* weightHhT = args.array<float>(1);
  const float* h0 = args.array<float>(2);
  const float* c0 = args.array<float>(3);
  float* outputs = args.array<float>(4);
  float* hOut = args.array<float>(5);
  float* cOut = args.array<float>(6);
  float* gates = args.array<float>(7);
  float* cells = args.array<float>(8);
  const int64_t steps = args.integer(9), batch = args.integer(10), H = args.integer(11);
  const int64_t G = 4 * H, block = batch * H;
  if (block == 0) return;
  if (steps == 0) {
    std::memcpy(hOut, h0, sizeof(float) * block);
    std::memcpy(cOut, c0, sizeof(float) * block);
    return;
  }
  std::memcpy(gates, projected, sizeof(float) * steps * batch * G);
  for (int64_t t = 0; t < steps; t++) {
    float* g = gates + t * batch * G;
    const float* hPrev = t == 0 ? h0 : outputs + (t - 1) * block;
    const float* cPrev = t == 0 ? c0 : cells + (t - 1) * block;
    float* hNext = outputs + t * block;
    float* cNext = cells + t * block;
    // gates_t = projected_t + h_{t-1}·W_hhᵀ
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, G, H, 1.f, hPrev, H, weightHhT, G, 1.f, g, G);
#pragma omp parallel for if (block >= kParallelMin) schedule(static)
    for (int64_t b = 0; b < batch; b++) {
      float* __restrict gb = g + b * G;
      const float* __restrict cp = cPrev + b * H;
      float* __restrict hn = hNext + b * H;
      float* __restrict cn = cNext + b * H;
#pragma omp simd
      for (int64_t j = 0; j < H; j++) {
        const float i = vk::simdSigmoid(gb[j]);
        const float f = vk::simdSigmoid(gb[H + j]);
        const float gg = vk::simdTanh(gb[2 * H + j]);
        const float o = vk::simdSigmoid(gb[3 * H + j]);
        gb[j] = i;
        gb[H + j] = f;
        gb[2 * H + j] = gg;
        gb[3 * H + j] = o;
        const float c = f * cp[j] + i * gg;
        cn[j] = c;
        hn[j] = o * vk::simdTanh(c);
      }
    }
  }
  std::memcpy(hOut, outputs + (steps - 1) * block, sizeof(float) * block);
  std::memcpy(cOut, cells + (steps - 1) * block, sizeof(float) * block);
}

// lstmBackward(weightHhT, h0, c0, outputs, gates, cells, dOutputs|null, dH|null, dC|null,
//              dProjected, dWeightHhT, dH0, dC0, steps, batch, hidden)
// Shapes as in lstmForward; a null gradient counts as zeros. dProjected [steps·batch, 4H] receives
// the gradient of the gates before their activations, which is also what dW_hhᵀ is built from.
VK_EXPORT(lstmBackward) {
  const float* weightHhT = args.array<float>(0);
  const float* h0 = args.array<float>(1);
  const float* c0 = args.array<float>(2);
  const float* outputs = args.array<float>(3);
  const float* gates = args.array<float>(4);
  const float* cells = args.array<float>(5);
  const float* dOutputs = args.isNull(6) ? nullptr : args.array<float>(6);
  const float* dH = args.isNull(7) ? nullptr : args.array<float>(7);
  const float* dC = args.isNull(8) ? nullptr : args.array<float>(8);
  float* dProjected = args.array<float>(9);
  float* dWeightHhT = args.array<float>(10);
  float* dH0 = args.array<float>(11);
  float* dC0 = args.array<float>(12);
  const int64_t steps = args.integer(13), batch = args.integer(14), H = args.integer(15);
  const int64_t G = 4 * H, block = batch * H;
  if (block == 0) return;
  if (steps == 0) {
    std::memset(dWeightHhT, 0, sizeof(float) * H * G);
    if (dH) std::memcpy(dH0, dH, sizeof(float) * block); else std::memset(dH0, 0, sizeof(float) * block);
    if (dC) std::memcpy(dC0, dC, sizeof(float) * block); else std::memset(dC0, 0, sizeof(float) * block);
    return;
  }
  // dH0 and dC0 carry the gradient reaching h_t and c_t from later steps (and from dH, dC at the
  // last step); after step 0 they hold the gradients of h0 and c0.
  float* dhNext = dH0;
  float* dcNext = dC0;
  if (dH) std::memcpy(dhNext, dH, sizeof(float) * block); else std::memset(dhNext, 0, sizeof(float) * block);
  if (dC) std::memcpy(dcNext, dC, sizeof(float) * block); else std::memset(dcNext, 0, sizeof(float) * block);
  for (int64_t t = steps - 1; t >= 0; t--) {
    const float* g = gates + t * batch * G;
    const float* cT = cells + t * block;
    const float* cPrev = t == 0 ? c0 : cells + (t - 1) * block;
    const float* dOut = dOutputs ? dOutputs + t * block : nullptr;
    float* dg = dProjected + t * batch * G;
#pragma omp parallel for if (block >= kParallelMin) schedule(static)
    for (int64_t b = 0; b < batch; b++) {
      const float* __restrict gb = g + b * G;
      const float* __restrict cb = cT + b * H;
      const float* __restrict cp = cPrev + b * H;
      const float* __restrict dob = dOut ? dOut + b * H : nullptr;
      const float* __restrict dh = dhNext + b * H;
      float* __restrict dc = dcNext + b * H;
      float* __restrict dgb = dg + b * G;
#pragma omp simd
      for (int64_t j = 0; j < H; j++) {
        const float i = gb[j], f = gb[H + j], gg = gb[2 * H + j], o = gb[3 * H + j];
        const float tc = vk::simdTanh(cb[j]);
        const float dhj = dob ? dh[j] + dob[j] : dh[j];
        const float dcj = dc[j] + dhj * o * (1.f - tc * tc);
        dgb[j] = dcj * gg * i * (1.f - i);
        dgb[H + j] = dcj * cp[j] * f * (1.f - f);
        dgb[2 * H + j] = dcj * i * (1.f - gg * gg);
        dgb[3 * H + j] = dhj * tc * o * (1.f - o);
        dc[j] = dcj * f;
      }
    }
    // dh_{t-1} = dgates_t·W_hh (the gradient through the recurrent product)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, H, G, 1.f, dg, G, weightHhT, G, 0.f, dhNext, H);
  }
  // dW_hhᵀ = Σ_t h_{t-1}ᵀ·dgates_t: h_0..h_{T-2} are the first rows of outputs, so steps 1..T-1
  // are one product over stacked rows, plus step 0's term from h0.
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, G, batch, 1.f, h0, H, dProjected, G, 0.f, dWeightHhT, G);
  if (steps > 1) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, G, (steps - 1) * batch, 1.f, outputs, H,
                dProjected + batch * G, G, 1.f, dWeightHhT, G);
  }
}
