// The two-layer network of docs/design.md §1.1 and its shard of parameters on one rank.
//   F_k(x) = c * sum_r A[r,k] phi_r(x),  z_r = <w_r, x>
//   softmax: phi_r = exp(z_r) / sum_q exp(z_q), c = m (the paper's c_m) or sqrt(m)
//   exp:     phi_r = exp(z_r),                  c = m^{-1/2}
//   relu:    phi_r = max(z_r, 0),               c = m^{-1/2}
// Parameters are stored neuron-major, like the files on disk (docs/design.md §5): W is (m_local, d)
// and A is (m_local, d_out), row-major, so a rank's shard is one contiguous block of rows.
// Initialisation is keyed by global neuron index (docs/design.md §2.4), never by rank.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "widemax/model/shard.hpp"

namespace widemax::model {

enum class Activation { kSoftmax, kExp, kRelu };
enum class Scale { kM, kSqrtM };
// gaussian: w_r ~ N(0, sigma^2 I), A[r,k] = +-1. symmetric: neurons in pairs (w, a), (w, -a).
enum class InitKind { kGaussian, kSymmetric };

Activation parse_activation(const std::string& s);  // errors name --activation
Scale parse_scale(const std::string& s);            // errors name --scale
InitKind parse_init(const std::string& s);          // errors name --init
std::string to_string(Activation a);
std::string to_string(Scale s);
std::string to_string(InitKind k);

struct Shape {
  std::int64_t m = 0;      // global width (hidden neurons)
  std::int64_t d = 0;      // input dimension
  std::int64_t d_out = 1;  // output dimension
  Activation activation = Activation::kSoftmax;
  Scale scale = Scale::kM;
  // Record width of a softmax partial: (M, S, u_1..u_d_out).
  int record_width() const { return static_cast<int>(d_out) + 2; }
};

// The output multiplier c of the formula above.
double output_scale(const Shape& s);

// How a seed relates networks of different widths. kWidth: W_0 is drawn from (seed, width,
// neuron), so networks of different widths share no draws and a width sweep's points are
// independent. kNested: from (seed, neuron) only, so the width-m network's neurons are the first
// m of every wider one's (paired experiments). Both are independent of the sharding.
enum class SeedScope { kWidth, kNested };
SeedScope parse_seed_scope(const std::string& s);  // errors name --seed-scope
std::string to_string(SeedScope s);

struct InitSpec {
  InitKind kind = InitKind::kGaussian;
  double sigma = 1.0;  // w_r ~ N(0, sigma^2 I)
  std::uint64_t seed = 0;
  SeedScope scope = SeedScope::kWidth;
};

// The generator's key of neuron draws for a network of width m (init_params; tests).
std::uint64_t init_key(const InitSpec& spec, std::int64_t m);

// The parameters of neurons [neurons.begin, neurons.end).
template <class T>
struct Params {
  Range neurons;
  std::vector<T> W;  // (neurons.size(), d)
  std::vector<T> A;  // (neurons.size(), d_out)
};

// Fills the shard from the counter-based generator. gaussian: w_r ~ N(0, sigma^2 I), A[r,k] uniform
// in {-1, +1}. symmetric: neurons 2p and 2p+1 share w and have opposite a, so F(W_0) = 0 exactly
// (m must be even).
template <class T>
void init_params(const Shape& shape, const InitSpec& spec, Params<T>& p);

// Adds Delta_r = radius * u_r to the rows w_r of p's neurons, u_r uniform on the unit sphere of
// R^d, drawn from `key` (init_key of the perturbation's seed) and the global neuron index r only:
// the same Delta on every grid, and ||Delta_r|| = radius for every r (widemax ntk --perturb).
template <class T>
void add_sphere_perturbation(const Shape& shape, std::uint64_t key, double radius, Params<T>& p);
// The direction u_r of neuron r (d numbers, unit norm) of add_sphere_perturbation.
void sphere_direction(std::uint64_t key, std::int64_t r, std::int64_t d, double* u);

}  // namespace widemax::model
