// Parameter initialisation and the small enums of model.hpp. W_0 depends only on (seed, width,
// global neuron index, coordinate) (or, with SeedScope::kNested, on (seed, neuron, coordinate)),
// so a run on any number of ranks starts from the same point; so does the sphere perturbation of
// `widemax ntk --perturb`, a function of (key, neuron, coordinate) alike.
#include <cmath>
#include <vector>

#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/random.hpp"
#include "widemax/model/model.hpp"

namespace widemax::model {

namespace {
constexpr EnumName<Activation> kActivations[] = {
    {Activation::kSoftmax, "softmax"}, {Activation::kExp, "exp"}, {Activation::kRelu, "relu"}};
constexpr EnumName<Scale> kScales[] = {{Scale::kM, "m"}, {Scale::kSqrtM, "sqrt-m"}};
constexpr EnumName<InitKind> kInits[] = {{InitKind::kGaussian, "gaussian"},
                                         {InitKind::kSymmetric, "symmetric"}};
constexpr EnumName<SeedScope> kScopes[] = {{SeedScope::kWidth, "width"},
                                           {SeedScope::kNested, "nested"}};
// Salts the per-width keys, so that they are not simply the nested keys of other seeds.
constexpr std::uint64_t kWidthSalt = 0x77696474682d7365ULL;  // "width-se"
}  // namespace

SeedScope parse_seed_scope(const std::string& s) {
  return parse_enum(kScopes, s, "--seed-scope", "seed scope",
                    "choose width (independent draws per width) or nested (a narrower network's "
                    "neurons are the first of a wider one's)");
}
std::string to_string(SeedScope s) {
  return enum_name(kScopes, s);
}

std::uint64_t init_key(const InitSpec& spec, std::int64_t m) {
  if (spec.scope == SeedScope::kNested) return spec.seed;
  return rng::mix(rng::mix(spec.seed ^ kWidthSalt) ^ static_cast<std::uint64_t>(m));
}

Activation parse_activation(const std::string& s) {
  return parse_enum(kActivations, s, "--activation", "activation",
                    "choose one of softmax, exp, relu");
}

Scale parse_scale(const std::string& s) {
  return parse_enum(kScales, s, "--scale", "scale",
                    "choose m (the paper's c_m = m) or sqrt-m (NTK scaling)");
}

InitKind parse_init(const std::string& s) {
  return parse_enum(kInits, s, "--init", "initialisation");
}

std::string to_string(Activation a) {
  return enum_name(kActivations, a);
}
std::string to_string(Scale s) {
  return enum_name(kScales, s);
}
std::string to_string(InitKind k) {
  return enum_name(kInits, k);
}

double output_scale(const Shape& s) {
  const double m = static_cast<double>(s.m);
  if (s.activation != Activation::kSoftmax) return 1.0 / std::sqrt(m);
  return s.scale == Scale::kM ? m : std::sqrt(m);
}

template <class T>
void init_params(const Shape& shape, const InitSpec& spec, Params<T>& p) {
  const bool symmetric = spec.kind == InitKind::kSymmetric;
  WIDEMAX_CHECK_ALL(!symmetric || shape.m % 2 == 0,
                    "--init symmetric pairs the neurons, so --width must be even (got ", shape.m,
                    ")");
  const std::int64_t n_loc = p.neurons.size();
  p.W.assign(static_cast<std::size_t>(n_loc * shape.d), T(0));
  p.A.assign(static_cast<std::size_t>(n_loc * shape.d_out), T(0));
  // Every value is a pure function of (key, neuron, coordinate): threads may split the neurons.
  const std::uint64_t seed = init_key(spec, shape.m);
#pragma omp parallel for schedule(static)
  for (std::int64_t r = p.neurons.begin; r < p.neurons.end; ++r) {
    const std::int64_t key = symmetric ? r / 2 : r;  // partners share their draws
    const double a_sign = (symmetric && r % 2 == 1) ? -1.0 : 1.0;
    T* w = p.W.data() + (r - p.neurons.begin) * shape.d;
    T* a = p.A.data() + (r - p.neurons.begin) * shape.d_out;
    for (std::int64_t j = 0; j < shape.d; ++j)
      w[j] = static_cast<T>(spec.sigma * rng::normal(seed, rng::kStreamW, key, j));
    for (std::int64_t k = 0; k < shape.d_out; ++k)
      a[k] = static_cast<T>(a_sign * rng::sign(seed, rng::kStreamA, key, k));
  }
}

void sphere_direction(std::uint64_t key, std::int64_t r, std::int64_t d, double* u) {
  // Gaussian coordinates scaled to unit length are uniform on the sphere (rotation invariance);
  // a zero norm has probability 0.
  double norm2 = 0;
  for (std::int64_t j = 0; j < d; ++j) {
    u[j] = rng::normal(key, rng::kStreamPerturb, static_cast<std::uint64_t>(r),
                       static_cast<std::uint64_t>(j));
    norm2 += u[j] * u[j];
  }
  const double inv = 1.0 / std::sqrt(norm2);
  for (std::int64_t j = 0; j < d; ++j) u[j] *= inv;
}

template <class T>
void add_sphere_perturbation(const Shape& shape, std::uint64_t key, double radius, Params<T>& p) {
  // Per neuron, not per symmetric pair: the partners of --init symmetric move apart, as a generic
  // perturbation of W_0 does.
#pragma omp parallel
  {
    std::vector<double> u(static_cast<std::size_t>(shape.d));
#pragma omp for schedule(static)
    for (std::int64_t r = p.neurons.begin; r < p.neurons.end; ++r) {
      sphere_direction(key, r, shape.d, u.data());
      T* w = p.W.data() + (r - p.neurons.begin) * shape.d;
      for (std::int64_t j = 0; j < shape.d; ++j)
        w[j] = static_cast<T>(static_cast<double>(w[j]) + radius * u[j]);
    }
  }
}

template void add_sphere_perturbation<double>(const Shape&, std::uint64_t, double, Params<double>&);
template void add_sphere_perturbation<float>(const Shape&, std::uint64_t, double, Params<float>&);
template void init_params<double>(const Shape&, const InitSpec&, Params<double>&);
template void init_params<float>(const Shape&, const InitSpec&, Params<float>&);

}  // namespace widemax::model
