// `widemax bench`: kernel and step benchmarks on this rank, with no communication.
// It measures this machine's rates the way the kernels use them (SLEEF exp; the two block GEMMs,
// one block per OpenMP thread with single-threaded BLAS inside), times the fused step
// (forward_partial + finalize + backward over the whole width in one shard), and prints
// neuron-samples per second and the fraction of a roofline built from the measured rates:
//   t_roof = 2 (2 n d m) / R_logits + (2 n d m) / R_grad + 2 n m / R_exp
// (two logit GEMMs, since pass 2 recomputes them; one gradient GEMM; two exps per element).
// Deliberately not here (yet): the alpha-beta scaling prediction of issue 7.
#include <omp.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <vector>

#include "../model/blas.hpp"
#include "widemax/cli/commands.hpp"
#include "widemax/cli/runtime_info.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/parse.hpp"
#include "widemax/core/random.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/model/kernels.hpp"
#include "widemax/model/vec_exp.hpp"

namespace po = boost::program_options;

namespace widemax::cli {

namespace {

struct BenchArgs {
  std::int64_t n = 512, d = 64, d_out = 1, m = 65536, block = 0;
  std::string precision = "fp64";
  int threads = 0, repeats = 5;
};

// Median over `repeats` of the seconds `f` takes, after one warm-up call.
template <class F>
double time_median(int repeats, F&& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    Stopwatch sw;
    f();
    t.push_back(sw.seconds());
  }
  return median(t);
}

template <class T>
void bench(const BenchArgs& a, int threads) {
  const std::int64_t n = a.n, d = a.d, d_out = a.d_out, m = a.m;
  const std::int64_t block = a.block > 0 ? a.block : model::auto_block(n, m, threads, sizeof(T));
  const model::Shape s{m, d, d_out, model::Activation::kSoftmax, model::Scale::kM};
  std::vector<T> X(n * d), Y(n * d_out, T(0));
  for (std::int64_t q = 0; q < n * d; ++q)
    X[q] = static_cast<T>(rng::normal(7, rng::kStreamDataX, q, 0) / std::sqrt(double(d)));
  model::Params<T> p;
  p.neurons = {0, m};
  model::init_params(s, model::InitSpec{"gaussian", 1.0, 0}, p);
  model::Workspace<T> ws(n, block, d_out, threads);
  const std::int64_t nb = (m + block - 1) / block;

  // exp: each thread over its own cache-resident buffer.
  const std::int64_t len = 1 << 16;
  std::vector<T> buf(static_cast<std::size_t>(len) * threads);
  for (std::size_t q = 0; q < buf.size(); ++q) buf[q] = static_cast<T>(-(q % 1000) * 0.01);
  const int exp_reps = 50;
  const double t_exp = time_median(a.repeats, [&] {
#pragma omp parallel num_threads(threads)
    {
      T* b = buf.data() + static_cast<std::size_t>(omp_get_thread_num()) * len;
      for (int r = 0; r < exp_reps; ++r) model::vec_exp(b, b, len);
    }
  });
  const double r_exp = double(len) * threads * exp_reps / t_exp;

  // The two GEMMs of a block, as the kernels call them.
  std::vector<T> gW(static_cast<std::size_t>(m * d));
  const double t_logits = time_median(a.repeats, [&] {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t cols = std::min(block, m - b * block);
      model::blas::logits(n, cols, d, X.data(), p.W.data() + b * block * d,
                          ws.z(omp_get_thread_num()));
    }
  });
  const double t_grad = time_median(a.repeats, [&] {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t cols = std::min(block, m - b * block);
      model::blas::weight_grad(n, cols, d, ws.z(omp_get_thread_num()), X.data(),
                               gW.data() + b * block * d);
    }
  });
  const double flops = 2.0 * n * d * m;

  // The fused step over the whole width.
  std::vector<T> part(n * s.record_width()), F(n * d_out), R(n * d_out), rf(n);
  const double t_step = time_median(a.repeats, [&] {
    model::forward_partial(s, n, m, X.data(), p.W.data(), p.A.data(), part.data(), ws);
    model::finalize_output(s, n, part.data(), F.data());
    for (std::int64_t i = 0; i < n; ++i) {
      T acc = 0;
      for (std::int64_t k = 0; k < d_out; ++k) {
        R[i * d_out + k] = F[i * d_out + k] - Y[i * d_out + k];
        acc += R[i * d_out + k] * F[i * d_out + k];
      }
      rf[i] = acc;
    }
    model::backward(s, n, m, X.data(), p.W.data(), p.A.data(), part.data(), R.data(), rf.data(),
                    gW.data(), static_cast<T*>(nullptr), ws);
  });
  // The same step with pass 1's exponentials kept (--logit-cache): no recomputed GEMM or exp.
  std::vector<T> tiles(static_cast<std::size_t>(n * m)), shift(static_cast<std::size_t>(nb * n));
  const model::LogitCache<T> cache{tiles.data(), shift.data()};
  const double t_cached = time_median(a.repeats, [&] {
    model::forward_partial(s, n, m, X.data(), p.W.data(), p.A.data(), part.data(), ws, &cache);
    model::finalize_output(s, n, part.data(), F.data());
    for (std::int64_t i = 0; i < n; ++i) {
      T acc = 0;
      for (std::int64_t k = 0; k < d_out; ++k) {
        R[i * d_out + k] = F[i * d_out + k] - Y[i * d_out + k];
        acc += R[i * d_out + k] * F[i * d_out + k];
      }
      rf[i] = acc;
    }
    model::backward(s, n, m, X.data(), p.W.data(), p.A.data(), part.data(), R.data(), rf.data(),
                    gW.data(), static_cast<T*>(nullptr), ws, &cache);
  });
  const double t_roof =
      2 * flops / (flops / t_logits) + flops / (flops / t_grad) + 2.0 * n * m / r_exp;
  std::printf(
      "widemax bench: n=%lld d=%lld d_out=%lld m=%lld %s, %d thread(s), block %lld, "
      "median of %d\n",
      (long long)n, (long long)d, (long long)d_out, (long long)m, a.precision.c_str(), threads,
      (long long)block, a.repeats);
  std::printf("  exp (SLEEF %s)        %8.2f Gelem/s\n", model::vec_exp_isa(), r_exp / 1e9);
  std::printf("  GEMM X W_blk^T        %8.1f GFLOP/s  (%.1f ms)\n", flops / t_logits / 1e9,
              t_logits * 1e3);
  std::printf("  GEMM G^T X            %8.1f GFLOP/s  (%.1f ms)\n", flops / t_grad / 1e9,
              t_grad * 1e3);
  std::printf("  fused step            %8.1f ms  %.3g neuron-samples/s\n", t_step * 1e3,
              double(n) * m / t_step);
  std::printf("  fused step, logit cache %8.1f ms  %.3g neuron-samples/s\n", t_cached * 1e3,
              double(n) * m / t_cached);
  std::printf(
      "  roofline (measured rates: 2 logit GEMMs + 1 gradient GEMM + 2 exps) %.1f ms: "
      "the step runs at %.0f%% of it\n",
      t_roof * 1e3, 100 * t_roof / t_step);
}

}  // namespace

int run_bench(const std::vector<std::string>& args) {
  BenchArgs a;
  std::string width = std::to_string(a.m);
  po::options_description desc("widemax bench options");
  desc.add_options()("n", po::value(&a.n)->default_value(a.n), "samples")(
      "d", po::value(&a.d)->default_value(a.d), "input dimension")(
      "d-out", po::value(&a.d_out)->default_value(a.d_out), "outputs")(
      "width", po::value(&width)->default_value(width), "neurons: 65536, 1e6, 2^20")(
      "precision", po::value(&a.precision)->default_value(a.precision), "fp64 | fp32")(
      "threads", po::value(&a.threads)->default_value(a.threads),
      "OpenMP/BLAS threads (0: as for train)")("block", po::value(&a.block)->default_value(a.block),
                                               "neurons per block (0: automatic)")(
      "repeats", po::value(&a.repeats)->default_value(a.repeats), "timed repetitions (median)")(
      "help,h", "this help");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    WIDEMAX_FAIL_HINT("see widemax bench --help", "widemax bench: ", e.what());
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (vm.count("help")) {
    if (rank == 0)
      std::cout
          << "widemax bench: kernel rates (exp, block GEMMs) and the fused step on one rank, "
             "with neuron-samples/s and the fraction of a roofline from the measured rates\n\n"
             "Usage: widemax bench [options]\n\n"
          << desc;
    return 0;
  }
  a.m = parse_count(width, "--width");
  WIDEMAX_CHECK(a.n >= 1 && a.d >= 1 && a.d_out >= 1 && a.repeats >= 1,
                "--n, --d, --d-out and --repeats must be >= 1");
  WIDEMAX_CHECK_HINT(a.precision == "fp64" || a.precision == "fp32", "choose fp64 or fp32",
                     "--precision: unknown precision '", a.precision, "'");
  const comm::Communicator world(MPI_COMM_WORLD);
  const int threads = resolve_threads(a.threads, world);
  if (rank != 0) return 0;  // a rank-local benchmark: rank 0 measures
  if (a.precision == "fp32")
    bench<float>(a, threads);
  else
    bench<double>(a, threads);
  return 0;
}

}  // namespace widemax::cli
