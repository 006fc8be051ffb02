// The paper's synthetic dataset (x uniform on the unit sphere, teacher or random labels).
// Every number comes from the counter-based rng::, indexed by (sample, coordinate) or (output,
// coordinate), so a rank that generates rows [a, b) gets exactly those rows of the full dataset,
// whatever the number of ranks. Deliberately no label noise and no caching: regenerating is
// cheap and keeps the dataset a pure function of the spec.
#include <cmath>

#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/random.hpp"
#include "widemax/data/dataset.hpp"

namespace widemax::data {

namespace {

// A vector of standard normals scaled to unit length is uniform on the sphere (rotation
// invariance of the Gaussian); the norm is never 0 in practice (probability 0).
void unit_normal_vector(std::uint64_t seed, std::uint64_t stream, std::uint64_t index,
                        std::int64_t d, double* out) {
  double norm2 = 0;
  for (std::int64_t j = 0; j < d; ++j) {
    out[j] = rng::normal(seed, stream, index, static_cast<std::uint64_t>(j));
    norm2 += out[j] * out[j];
  }
  const double inv = 1.0 / std::sqrt(norm2);
  for (std::int64_t j = 0; j < d; ++j) out[j] *= inv;
}

constexpr EnumName<Labels> kLabels[] = {{Labels::kTeacher, "teacher"}, {Labels::kRandom, "random"}};

}  // namespace

Labels parse_labels(const std::string& s) {
  return parse_enum(kLabels, s, "--labels", "label kind");
}
std::string to_string(Labels l) {
  return enum_name(kLabels, l);
}

Dataset make_synthetic(const SyntheticSpec& spec, std::int64_t row_begin, std::int64_t row_end) {
  WIDEMAX_CHECK(spec.n >= 1, "--n: the number of samples must be >= 1 (got ", spec.n, ")");
  WIDEMAX_CHECK(spec.d >= 1, "--d: the input dimension must be >= 1 (got ", spec.d, ")");
  WIDEMAX_CHECK(spec.d_out >= 1, "--d-out: the output dimension must be >= 1 (got ", spec.d_out,
                ")");
  const bool teacher = spec.labels == Labels::kTeacher;
  if (row_end < 0) row_end = spec.n;
  WIDEMAX_CHECK(row_begin >= 0 && row_begin <= row_end && row_end <= spec.n,
                "synthetic data: row range [", row_begin, ", ", row_end, ") is outside [0, ",
                spec.n, ")");

  Dataset ds;
  ds.n = row_end - row_begin;
  ds.d = spec.d;
  ds.d_out = spec.d_out;
  for (std::int64_t j = 0; j < ds.d; ++j) ds.feature_names.push_back("x" + std::to_string(j));
  for (std::int64_t k = 0; k < ds.d_out; ++k) ds.target_names.push_back("y" + std::to_string(k));
  ds.X.resize(static_cast<std::size_t>(ds.n * ds.d));
  ds.Y.resize(static_cast<std::size_t>(ds.n * ds.d_out));

  std::vector<double> v;
  if (teacher) {
    v.resize(static_cast<std::size_t>(ds.d_out * ds.d));
    for (std::int64_t k = 0; k < ds.d_out; ++k)
      unit_normal_vector(spec.seed, rng::kStreamDataTeacher, static_cast<std::uint64_t>(k), ds.d,
                         &v[k * ds.d]);
  }
  for (std::int64_t r = 0; r < ds.n; ++r) {
    const auto i = static_cast<std::uint64_t>(row_begin + r);
    double* x = &ds.X[r * ds.d];
    double* y = &ds.Y[r * ds.d_out];
    unit_normal_vector(spec.seed, rng::kStreamDataX, i, ds.d, x);
    for (std::int64_t k = 0; k < ds.d_out; ++k) {
      if (teacher) {
        double dot = 0;
        for (std::int64_t j = 0; j < ds.d; ++j) dot += v[k * ds.d + j] * x[j];
        y[k] = std::tanh(2.0 * dot);
      } else {
        y[k] = 2.0 * rng::uniform(spec.seed, rng::kStreamDataTeacher, i,
                                  static_cast<std::uint64_t>(k)) -
               1.0;
      }
    }
  }
  return ds;
}

}  // namespace widemax::data
