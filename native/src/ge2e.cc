// The GE2E similarity logits of embeddings [S speakers, M utterances, D] and their gradient (the
// kernels VoxkitGe2eSimilarity and VoxkitGe2eSimilarityGrad, src/core/fused-kernels.ts). Row
// r = j·M + i is utterance i of speaker j; column k ≠ j compares it with speaker k's centroid
// (the mean of its M utterances), column j with its own speaker's centroid without it. Centroids,
// and optionally the utterances, are normalised; one sgemm gives the k ≠ j dot products, the own
// column is one more pass over the rows. The backward pass recomputes the normalised vectors
// (a few passes over S·M·D floats) rather than keeping them between the calls.
#include <cblas.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#include "kernels.h"
#include "napi_util.h"

namespace {

// Below this many embedding values a parallel region costs more than the loops.
constexpr int64_t kParallelMin = 1 << 15;

struct Shape {
  int64_t speakers, utterances, dim;
  int64_t rows() const { return speakers * utterances; }
};

// settings: centroidEps, centroidEpsAdded (1: x / (‖x‖ + eps), 0: x / max(‖x‖, eps)),
// utteranceEps (0: utterances as given, else x / max(‖x‖, eps)), minSimilarity (−∞: no floor).
struct Settings {
  float centroidEps;
  bool centroidEpsAdded;
  float utteranceEps;
  float minSimilarity;
  explicit Settings(const double* s)
      : centroidEps(static_cast<float>(s[0])), centroidEpsAdded(s[1] != 0),
        utteranceEps(static_cast<float>(s[2])), minSimilarity(static_cast<float>(s[3])) {}
};

double dot(const float* a, const float* b, int64_t n) {
  double acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t d = 0; d < n; d++) acc += static_cast<double>(a[d]) * b[d];
  return acc;
}

// The divisor of a normalisation and dDivisor/d‖x‖, as the composed ops differentiate it
// (tf.maximum passes the gradient to ‖x‖ when ‖x‖ ≥ eps).
struct Divisor {
  float value, slope;
};

Divisor divisor(float norm, float eps, bool added) {
  if (added) return {norm + eps, 1.f};
  return norm >= eps ? Divisor{norm, 1.f} : Divisor{eps, 0.f};
}

// d x given the gradient g of x / divisor(‖x‖), added into dx:
// g / D − x · ⟨x, g⟩ · D′ / (D² · ‖x‖).
void addNormalizationGradient(const float* x, float norm, Divisor div, const float* g, float* dx, int64_t n) {
  const float inv = 1.f / div.value;
  const float coef = div.slope == 0.f ? 0.f : static_cast<float>(dot(x, g, n) * div.slope / (static_cast<double>(div.value) * div.value * norm));
#pragma omp simd
  for (int64_t d = 0; d < n; d++) dx[d] += g[d] * inv - x[d] * coef;
}

// What forward and backward both need: speaker sums, normalised centroids (with their norms)
// and the utterance vectors the dot products use.
struct Centroids {
  std::vector<float> sums;        // [S, D] Σ_i e_ji
  std::vector<float> inclusive;   // [S, D] (sum / M) / D(‖sum / M‖)
  std::vector<float> meanNorms;   // [S] ‖sum / M‖
  std::vector<float> unitRows;    // [S·M, D] normalised utterances, empty when used as given
  std::vector<float> rowNorms;    // [S·M] ‖e_r‖ when normalised
  const float* utterances;        // unitRows or the embeddings
};

Centroids centroids(const float* e, const Shape& s, const Settings& set) {
  const int64_t S = s.speakers, M = s.utterances, D = s.dim;
  Centroids c;
  c.sums.assign(S * D, 0.f);
  c.inclusive.resize(S * D);
  c.meanNorms.resize(S);
  const bool normalizeRows = set.utteranceEps > 0;
  if (normalizeRows) {
    c.unitRows.resize(S * M * D);
    c.rowNorms.resize(S * M);
  }
  const float invM = 1.f / static_cast<float>(M);
#pragma omp parallel for if (S * M * D >= kParallelMin) schedule(static)
  for (int64_t j = 0; j < S; j++) {
    float* sum = c.sums.data() + j * D;
    for (int64_t i = 0; i < M; i++) {
      const float* row = e + (j * M + i) * D;
#pragma omp simd
      for (int64_t d = 0; d < D; d++) sum[d] += row[d];
      if (normalizeRows) {
        const int64_t r = j * M + i;
        const float norm = static_cast<float>(std::sqrt(dot(row, row, D)));
        c.rowNorms[r] = norm;
        const float inv = 1.f / divisor(norm, set.utteranceEps, false).value;
        float* unit = c.unitRows.data() + r * D;
#pragma omp simd
        for (int64_t d = 0; d < D; d++) unit[d] = row[d] * inv;
      }
    }
    float* centroid = c.inclusive.data() + j * D;
#pragma omp simd
    for (int64_t d = 0; d < D; d++) centroid[d] = sum[d] * invM;
    const float norm = static_cast<float>(std::sqrt(dot(centroid, centroid, D)));
    c.meanNorms[j] = norm;
    const float inv = 1.f / divisor(norm, set.centroidEps, set.centroidEpsAdded).value;
#pragma omp simd
    for (int64_t d = 0; d < D; d++) centroid[d] *= inv;
  }
  c.utterances = normalizeRows ? c.unitRows.data() : e;
  return c;
}

// The exclusive centroid of row r (speaker j) into x: (sum_j − e_r) / (M − 1); returns ‖x‖.
float exclusiveCentroid(const Centroids& c, const float* e, const Shape& s, int64_t j, int64_t r, float* x) {
  const int64_t D = s.dim;
  const float invRest = 1.f / static_cast<float>(s.utterances - 1);
  const float* sum = c.sums.data() + j * D;
  const float* row = e + r * D;
#pragma omp simd
  for (int64_t d = 0; d < D; d++) x[d] = (sum[d] - row[d]) * invRest;
  return static_cast<float>(std::sqrt(dot(x, x, D)));
}

}  // namespace

// ge2eSimilarity(embeddings, weight, bias, logits, similarity, speakers, utterances, dim, settings)
// embeddings [S·M, D]; weight, bias [1]; logits, similarity [S·M, S]. similarity receives the
// dot products before the floor (for the gradient), logits max(similarity, floor)·w + b.
VK_EXPORT(ge2eSimilarity) {
  const float* e = args.array<float>(0);
  const float w = args.array<float>(1)[0];
  const float b = args.array<float>(2)[0];
  float* logits = args.array<float>(3);
  float* similarity = args.array<float>(4);
  const Shape s{args.integer(5), args.integer(6), args.integer(7)};
  const Settings set(args.array<double>(8));
  const int64_t S = s.speakers, M = s.utterances, D = s.dim, N = s.rows();
  if (N == 0) return;
  if (M < 2) throw std::runtime_error("ge2eSimilarity: needs at least 2 utterances per speaker");
  const Centroids c = centroids(e, s, set);
  // Every row against every centroid; the own column is overwritten below.
  if (D > 0) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, S, D, 1.f, c.utterances, D, c.inclusive.data(), D, 0.f, similarity, S);
  } else {
    std::memset(similarity, 0, sizeof(float) * N * S);
  }
  const bool floored = set.minSimilarity > -INFINITY;
#pragma omp parallel if (N * D >= kParallelMin)
  {
    std::vector<float> x(D);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < N; r++) {
      const int64_t j = r / M;
      const float norm = exclusiveCentroid(c, e, s, j, r, x.data());
      const float div = divisor(norm, set.centroidEps, set.centroidEpsAdded).value;
      similarity[r * S + j] = static_cast<float>(dot(c.utterances + r * D, x.data(), D) / div);
      for (int64_t k = 0; k < S; k++) {
        float v = similarity[r * S + k];
        if (floored && v < set.minSimilarity) v = set.minSimilarity;
        logits[r * S + k] = v * w + b;
      }
    }
  }
}

// ge2eSimilarityGrad(dLogits, embeddings, weight, similarity, dEmbeddings, dWeight, dBias,
//                    speakers, utterances, dim, settings)
// Shapes and settings as in ge2eSimilarity; similarity is its second output.
VK_EXPORT(ge2eSimilarityGrad) {
  const float* dLogits = args.array<float>(0);
  const float* e = args.array<float>(1);
  const float w = args.array<float>(2)[0];
  const float* similarity = args.array<float>(3);
  float* dE = args.array<float>(4);
  float* dWeight = args.array<float>(5);
  float* dBias = args.array<float>(6);
  const Shape s{args.integer(7), args.integer(8), args.integer(9)};
  const Settings set(args.array<double>(10));
  const int64_t S = s.speakers, M = s.utterances, D = s.dim, N = s.rows();
  const bool floored = set.minSimilarity > -INFINITY;
  // Gradient of the similarity, split into the k ≠ j part (own column zeroed) and the own column.
  std::vector<float> dOther(N * S);
  std::vector<float> dOwn(N);
  double sumG = 0, sumGS = 0;
  for (int64_t r = 0; r < N; r++) {
    const int64_t j = r / M;
    for (int64_t k = 0; k < S; k++) {
      const float g = dLogits[r * S + k];
      const float v = similarity[r * S + k];
      // As the forward floors (a NaN stays NaN) and as tf.maximum passes gradients (v ≥ floor).
      const float used = floored && v < set.minSimilarity ? set.minSimilarity : v;
      const bool passes = !floored || v >= set.minSimilarity;
      sumG += g;
      sumGS += static_cast<double>(g) * used;
      const float dv = passes ? g * w : 0.f;
      if (k == j) {
        dOwn[r] = dv;
        dOther[r * S + k] = 0.f;
      } else {
        dOther[r * S + k] = dv;
      }
    }
  }
  dBias[0] = static_cast<float>(sumG);
  dWeight[0] = static_cast<float>(sumGS);
  if (N == 0 || D == 0) return;
  const Centroids c = centroids(e, s, set);
  // d utterances = dOther · inclusive (+ the own column's term below), d inclusive = dOtherᵀ · utterances.
  std::vector<float> dUtterances(N * D);
  std::vector<float> dInclusive(S * D);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, D, S, 1.f, dOther.data(), S, c.inclusive.data(), D, 0.f, dUtterances.data(), D);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, S, D, N, 1.f, dOther.data(), S, c.utterances, D, 0.f, dInclusive.data(), D);
  // d exclusive centroid of every row, and their sum per speaker (each row is in its speaker's sum).
  std::vector<float> dExclusive(N * D, 0.f);
  std::vector<float> dExclusiveSums(S * D, 0.f);
  const float invM = 1.f / static_cast<float>(M);
  const float invRest = 1.f / static_cast<float>(M - 1);
#pragma omp parallel if (N * D >= kParallelMin)
  {
    std::vector<float> x(D), dUnit(D);
#pragma omp for schedule(static)
    for (int64_t j = 0; j < S; j++) {
      float* dSum = dExclusiveSums.data() + j * D;
      for (int64_t i = 0; i < M; i++) {
        const int64_t r = j * M + i;
        const float norm = exclusiveCentroid(c, e, s, j, r, x.data());
        const Divisor div = divisor(norm, set.centroidEps, set.centroidEpsAdded);
        const float* u = c.utterances + r * D;
        float* dU = dUtterances.data() + r * D;
        const float g = dOwn[r];
        const float gOverDiv = g / div.value;
#pragma omp simd
        for (int64_t d = 0; d < D; d++) {
          dU[d] += gOverDiv * x[d];
          dUnit[d] = g * u[d];
        }
        float* dx = dExclusive.data() + r * D;
        addNormalizationGradient(x.data(), norm, div, dUnit.data(), dx, D);
#pragma omp simd
        for (int64_t d = 0; d < D; d++) dSum[d] += dx[d];
      }
    }
  }
  // Into the embeddings: e_r reaches its own utterance vector, its speaker's inclusive centroid
  // (1/M), every exclusive centroid of its speaker (1/(M − 1)) except its own (0).
#pragma omp parallel if (N * D >= kParallelMin)
  {
    std::vector<float> mean(D), dCentroid(D);
#pragma omp for schedule(static)
    for (int64_t j = 0; j < S; j++) {
      // Gradient of the mean sum / M from that of its normalised form.
      const float* sum = c.sums.data() + j * D;
#pragma omp simd
      for (int64_t d = 0; d < D; d++) mean[d] = sum[d] * invM;
      std::fill(dCentroid.begin(), dCentroid.end(), 0.f);
      addNormalizationGradient(mean.data(), c.meanNorms[j], divisor(c.meanNorms[j], set.centroidEps, set.centroidEpsAdded),
                               dInclusive.data() + j * D, dCentroid.data(), D);
      const float* dSum = dExclusiveSums.data() + j * D;
      for (int64_t i = 0; i < M; i++) {
        const int64_t r = j * M + i;
        float* out = dE + r * D;
        const float* dx = dExclusive.data() + r * D;
#pragma omp simd
        for (int64_t d = 0; d < D; d++) out[d] = dCentroid[d] * invM + (dSum[d] - dx[d]) * invRest;
        const float* dU = dUtterances.data() + r * D;
        if (set.utteranceEps > 0) {
          addNormalizationGradient(e + r * D, c.rowNorms[r], divisor(c.rowNorms[r], set.utteranceEps, false), dU, out, D);
        } else {
#pragma omp simd
          for (int64_t d = 0; d < D; d++) out[d] += dU[d];
        }
      }
    }
  }
}
