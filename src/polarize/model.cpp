// The sharded value-softmax model. See polarize/model.hpp; the maths is in polarize/kernels.hpp.
#include "widemax/polarize/model.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/random.hpp"
#include "widemax/core/timer.hpp"

namespace widemax::polarize {

namespace {

// |M| above which forward_backward recomputes the entropy (below it the readout's absolute error,
// about 1e-16 |M|, is under 1e-11).
constexpr double kHugeLogit = 0x1p16;

// sum_j e^{a_j - M} (a_j - M) over a rank's tokens, in index order: with the merged S, the entropy
// log S - (this sum) / S. Terms whose exponential underflows are skipped (0 * (a_j - M), and
// a_j - M may be -inf).
double shifted_entropy_sum(const double* a, std::int64_t t, double M) {
  double sum = 0;
  for (std::int64_t j = 0; j < t; ++j) {
    const double x = a[j] - M;
    if (x > -746) sum += std::exp(x) * x;
  }
  return sum;
}

}  // namespace

void init_params(const InitSpec& s, const model::Range& r, int d, std::vector<double>& V,
                 std::vector<double>& a) {
  V.assign(static_cast<std::size_t>(r.size() * d), 0.0);
  a.assign(static_cast<std::size_t>(r.size()), 0.0);
#pragma omp parallel for schedule(static)
  for (std::int64_t j = 0; j < r.size(); ++j) {
    const auto g = static_cast<std::uint64_t>(r.begin + j);
    for (int k = 0; k < d; ++k)
      V[j * d + k] =
          s.v_scale * rng::normal(s.seed, kStreamValues, g, static_cast<std::uint64_t>(k));
    a[j] = s.a_mean + (s.a_noise != 0 ? s.a_noise * rng::normal(s.seed, kStreamLogits, g, 0) : 0.0);
  }
}

std::vector<double> random_beta(int d, std::uint64_t seed, double norm) {
  std::vector<double> beta(static_cast<std::size_t>(d));
  double sq = 0;
  for (int k = 0; k < d; ++k) {
    beta[k] = rng::normal(seed, kStreamBeta, static_cast<std::uint64_t>(k), 0);
    sq += beta[k] * beta[k];
  }
  for (auto& b : beta) b *= norm / std::sqrt(sq);
  return beta;
}

namespace {
constexpr EnumName<CeTarget> kCeTargets[] = {{CeTarget::kArgmax, "argmax"},
                                             {CeTarget::kSoftmax, "softmax"}};
}  // namespace

CeTarget parse_ce_target(const std::string& s) {
  return parse_enum(kCeTargets, s, "--ce-target", "target");
}
std::string to_string(CeTarget t) {
  return enum_name(kCeTargets, t);
}

std::vector<double> ce_target(const std::vector<double>& beta, CeTarget kind) {
  std::vector<double> p(beta.size(), 0.0);
  if (kind == CeTarget::kArgmax) {
    p[std::max_element(beta.begin(), beta.end()) - beta.begin()] = 1.0;
  } else {
    const double bmax = *std::max_element(beta.begin(), beta.end());
    double z = 0;
    for (std::size_t k = 0; k < beta.size(); ++k) z += p[k] = std::exp(beta[k] - bmax);
    for (auto& v : p) v /= z;
  }
  return p;
}

ValueSoftmax::ValueSoftmax(Problem p, const comm::Communicator& comm)
    : p_(std::move(p)), comm_(comm) {
  // T and the rank count are the same on every rank: so is this refusal.
  WIDEMAX_CHECK_ALL_HINT(p_.T >= comm_.size(), "use fewer ranks or a larger --T", "--T ", p_.T,
                         " is smaller than the ", comm_.size(),
                         " ranks that split the softmax: every rank must own at least one token");
  WIDEMAX_CHECK(p_.d >= 1, "--d must be at least 1, got ", p_.d);
  WIDEMAX_CHECK(static_cast<int>(p_.beta.size()) == p_.d, "beta has ", p_.beta.size(),
                " entries, expected d = ", p_.d);
  if (p_.loss == Loss::kCrossEntropy)
    WIDEMAX_CHECK(static_cast<int>(p_.p_star.size()) == p_.d, "p* has ", p_.p_star.size(),
                  " entries, expected d = ", p_.d);
  range_ = model::shard_range(p_.T, comm_.size(), comm_.rank());
  const auto t = static_cast<std::size_t>(range_.size());
  V_.assign(t * p_.d, 0.0);
  a_.assign(t, 0.0);
  gV_.assign(t * p_.d, 0.0);
  ga_.assign(t, 0.0);
  record_.assign(static_cast<std::size_t>(record_width(p_.d)), 0.0);
  g_.assign(static_cast<std::size_t>(p_.d), 0.0);
  state_.y.assign(static_cast<std::size_t>(p_.d), 0.0);
}

const StepState& ValueSoftmax::forward_backward() {
  const int d = p_.d;
  const std::int64_t t = range_.size();
  partial_record(V_.data(), a_.data(), t, d, record_.data());
  {
    ScopedTimer timer(comm_s_);
    comm_.allreduce_softmax_merge(record_.data(), 1, record_width(d));
  }
  const Readout r = read_record(record_.data(), d, state_.y.data());
  state_.entropy = r.entropy;
  // The readout's log S + M - E/S, E = sum e^{a_j - M} a_j, cancels when |M| is large and gives 0
  // once E overflows (a_j = 1e308, where the uniform softmax has entropy log T). There the entropy
  // is recomputed relative to M, exactly log T for equal logits, at the cost of a pass over the
  // tokens and a scalar all-reduce. M is an exact max, the same on every rank, so all ranks agree.
  if (std::abs(record_[0]) > kHugeLogit) {
    double sum = shifted_entropy_sum(a_.data(), t, record_[0]);
    {
      ScopedTimer timer(comm_s_);
      sum = comm_.allreduce_sum(sum);
    }
    state_.entropy = std::max(0.0, std::log(record_[1]) - sum / record_[1]);
  }
  state_.max_prob = r.max_prob;
  state_.loss =
      output_loss(p_.loss, state_.y.data(), p_.beta.data(), p_.p_star.data(), d, g_.data());
  double gy = 0, margin = 0;
  for (int k = 0; k < d; ++k) {
    gy += g_[k] * state_.y[k];
    margin += p_.beta[k] * state_.y[k];
  }
  state_.margin = margin;
  local_gradient(V_.data(), a_.data(), t, d, record_[0], record_[1], g_.data(), gy, gV_.data(),
                 ga_.data());
  return state_;
}

std::pair<double, double> ValueSoftmax::grad_norms() const {
  double sq[2] = {sum_squares(gV_.data(), static_cast<std::int64_t>(gV_.size())),
                  sum_squares(ga_.data(), static_cast<std::int64_t>(ga_.size()))};
  {
    ScopedTimer timer(comm_s_);
    comm_.allreduce_sum(std::span<double>(sq));
  }
  return {std::sqrt(sq[0]), std::sqrt(sq[1])};
}

std::int64_t ValueSoftmax::argmax() const {
  // The token with the largest a_j has the largest alpha_j; only a rank whose local maximum is
  // the global one (record_[0] after the merge) proposes it.
  std::int64_t best = -1;
  for (std::int64_t j = 0; j < range_.size(); ++j)
    if (a_[j] == record_[0]) best = range_.begin + j;
  ScopedTimer timer(comm_s_);
  return comm_.allreduce_max(best);
}

void ValueSoftmax::apply(double lr) {
  descend(V_.data(), gV_.data(), static_cast<std::int64_t>(V_.size()), lr);
  descend(a_.data(), ga_.data(), static_cast<std::int64_t>(a_.size()), lr);
}

}  // namespace widemax::polarize
