// `widemax bench`: kernel and step benchmarks on this rank, with no communication.
// It measures this machine's rates the way the kernels use them (SLEEF exp; the two block GEMMs,
// one block per OpenMP thread with single-threaded BLAS inside), times the fused step
// (forward_partial + finalize + backward over the whole width in one shard), and prints
// neuron-samples per second and the fraction of a roofline built from the measured rates:
//   t_roof = 2 (2 n d m) / R_logits + (2 n d m) / R_grad + 2 n m / R_exp
// (two logit GEMMs, since pass 2 recomputes them; one gradient GEMM; two exps per element: the
// roofline of docs/design.md §4, here with this machine's rates), and the same step with the logit
// cache against its own roofline (one logit GEMM, one exp; the cache's memory traffic is not in
// it).
// --predict evaluates the performance model (train/perf_model.hpp for compute from the measured
// rates, comm/cost_model.hpp for the alpha-beta all-reduces), checks it against a real
// distributed step on this world (any number of ranks, any grid), and tabulates the predicted
// strong and weak scaling to --max-nodes nodes for a stated cluster network.
#include <omp.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "options.hpp"
#include "widemax/cli/commands.hpp"
#include "widemax/cli/runtime_info.hpp"
#include "widemax/comm/cost_model.hpp"
#include "widemax/comm/grid.hpp"
#include "widemax/core/cpu.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/parse.hpp"
#include "widemax/core/random.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/model/blas.hpp"
#include "widemax/model/kernels.hpp"
#include "widemax/model/peak.hpp"
#include "widemax/model/vec_exp.hpp"
#include "widemax/train/config.hpp"
#include "widemax/train/grid_choice.hpp"
#include "widemax/train/loop.hpp"
#include "widemax/train/ntk_run.hpp"
#include "widemax/train/perf_model.hpp"
#include "widemax/train/trainer.hpp"

namespace po = boost::program_options;

namespace widemax::cli {

namespace {

struct BenchArgs {
  std::int64_t n = 512, d = 64, d_out = 1, m = 65536, block = 0;
  train::Precision precision = train::Precision::kFp64;
  int threads = 0, repeats = 5;
  // --predict
  bool predict = false;
  std::string grid = "1xP";  // PdxPw
  train::LogitCacheMode logit_cache = train::LogitCacheMode::kAuto;
  double cluster_latency_us = 2.0, cluster_bandwidth_gbs = 12.5;
  int node_cores = 0, max_nodes = 1024;
};

// Median and communication share of `steps` real training steps on this world and grid.
template <class T>
std::pair<double, double> measure_real_step(const BenchArgs& a, const comm::Grid& grid, int threads,
                                            bool& cache_on) {
  // The synthetic data and the network of `widemax train` at these sizes; a rate so small that the
  // steps leave the parameters where they are.
  constexpr double kLr = 1e-12;
  train::NetSpec net;
  net.width = a.m, net.d_out = a.d_out, net.precision = a.precision;
  net.block = a.block, net.logit_cache = a.logit_cache;
  train::DataSpec spec;
  spec.n = a.n, spec.d = a.d;
  const auto data = train::load_data(spec, a.d_out, /*d_out_given=*/false, grid);
  train::Trainer<T> tr(net, grid, data, threads);
  cache_on = tr.logit_cache_on();
  tr.compute_gradient();  // warm-up: first touches, MPI connections
  tr.apply_update(kLr, 0);
  std::vector<double> times;
  const double comm0 = tr.comm_seconds();
  Stopwatch all;
  for (int q = 0; q < a.repeats; ++q) {
    Stopwatch sw;
    tr.compute_gradient();
    tr.apply_update(kLr, q + 1);
    times.push_back(grid.world().allreduce_max(sw.seconds()));
  }
  const double comm_share =
      grid.world().allreduce_max(tr.comm_seconds() - comm0) / std::max(all.seconds(), 1e-12);
  return {median(times), comm_share};
}

int predict(const BenchArgs& a, int threads) {
  const comm::Communicator world(MPI_COMM_WORLD);
  const bool rank0 = world.rank() == 0;
  const auto [pd, pw] = train::parse_grid(a.grid, world.size());
  // The real steps first: they settle whether the logit cache is on, and the rates below are
  // then calibrated on the same path.
  comm::Grid grid(MPI_COMM_WORLD, pd, pw);
  bool cache_on = false;
  const auto [step_s, comm_share] = a.precision == train::Precision::kFp32
                                        ? measure_real_step<float>(a, grid, threads, cache_on)
                                        : measure_real_step<double>(a, grid, threads, cache_on);
  // Compute per (sample, neuron) on one core, from the rates measured on rank 0 alone.
  const train::KernelRates rates = train::measure_kernel_rates_on_root(
      world, a.n, a.d, a.d_out, std::min<std::int64_t>(a.m, 8192), a.precision, cache_on,
      a.repeats);
  const comm::Network net = comm::measure_network(world);
  const int local = world.ranks_on_node();
  const int cpus = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  comm::StepShape s;
  s.n = a.n, s.m = a.m, s.d = a.d, s.d_out = a.d_out;
  s.elem_bytes = train::element_bytes(a.precision);
  s.seconds_per_pair = train::seconds_per_pair(rates, a.d, cache_on);
  s.cores_per_rank = threads * std::min(1.0, double(cpus) / (double(local) * threads));
  const comm::GridCost here = comm::grid_cost(s, net, pd, pw);
  if (!rank0) return 0;

  std::printf(
      "widemax bench --predict: n=%lld d=%lld d_out=%lld m=%lld %s, %d rank(s) as %dx%d, %d "
      "thread(s) per rank, %d rank(s) on this node of %d CPUs, logit cache %s\n",
      (long long)a.n, (long long)a.d, (long long)a.d_out, (long long)a.m,
      train::to_string(a.precision).c_str(), world.size(), pd, pw, threads, local, cpus,
      cache_on ? "on" : "off");
  std::printf(
      "  measured rates (one core): logits GEMM %.1f GFLOP/s, gradient GEMM %.1f GFLOP/s, "
      "exp %.2f Gelem/s, rest of the fused sweep %.2f ns/pair -> %.2f ns per sample-neuron\n",
      rates.logits_flops / 1e9, rates.grad_flops / 1e9, rates.exp_per_s / 1e9, rates.other_s * 1e9,
      s.seconds_per_pair * 1e9);
  std::printf("  measured network (this world): latency %.3g us, bandwidth %.3g GB/s%s\n",
              net.latency_s * 1e6, net.bandwidth_Bps / 1e9,
              world.size() == 1 ? " (one rank: nothing to measure)" : "");
  const double err = (here.total() - step_s) / step_s;
  std::printf(
      "  step: predicted %.2f ms (compute %.2f, row all-reduce %.2f, column all-reduce %.2f; comm "
      "%.1f%%), measured %.2f ms (comm %.1f%%): error %+.0f%%\n",
      here.total() * 1e3, here.compute_s * 1e3, here.row_s * 1e3, here.column_s * 1e3,
      100 * (here.row_s + here.column_s) / here.total(), step_s * 1e3, 100 * comm_share, 100 * err);
  std::printf(
      "PREDICT_CHECK ranks=%d grid=%dx%d predicted_ms=%.4f measured_ms=%.4f comm_share=%.4f "
      "pred_comm=%.4f\n",
      world.size(), pd, pw, here.total() * 1e3, step_s * 1e3, comm_share,
      (here.row_s + here.column_s) / here.total());

  // The cluster table: one rank per node with node_cores threads, the stated network.
  const int node_cores = a.node_cores > 0 ? a.node_cores : cpus;
  const comm::Network cluster{a.cluster_latency_us * 1e-6, a.cluster_bandwidth_gbs * 1e9,
                              "--net-latency/--net-bandwidth"};
  comm::StepShape c = s;
  c.cores_per_rank = node_cores;
  std::printf(
      "\n  predicted scaling on a cluster of nodes of %d cores like this one's (one rank per node, "
      "%d threads), all-reduce latency %.3g us and bandwidth %.3g GB/s per node "
      "(--net-latency, --net-bandwidth), best grid per node count:\n",
      node_cores, node_cores, a.cluster_latency_us, a.cluster_bandwidth_gbs);
  std::printf("  %6s | %-40s | %-40s\n", "nodes", "strong (m fixed)", "weak (m per node fixed)");
  std::printf("  %6s | %9s %7s %6s %5s %8s | %9s %10s %6s %5s %8s\n", "", "ms/step", "speedup",
              "eff", "comm", "grid", "ms/step", "m", "eff", "comm", "grid");
  double t1_strong = 0, t1_weak = 0;
  for (int nodes = 1; nodes <= a.max_nodes; nodes *= 2) {
    comm::StepShape weak = c;
    weak.m = c.m * nodes;
    const auto rs = comm::rank_grids(c, cluster, nodes);
    const auto rw = comm::rank_grids(weak, cluster, nodes);
    if (rs.empty() || rw.empty()) break;
    const auto& bs = rs.front();
    const auto& bw = rw.front();
    if (nodes == 1) t1_strong = bs.total(), t1_weak = bw.total();
    const std::string gs = std::to_string(bs.p_data) + "x" + std::to_string(bs.p_width);
    const std::string gw = std::to_string(bw.p_data) + "x" + std::to_string(bw.p_width);
    std::printf("  %6d | %9.3f %7.1f %5.0f%% %4.0f%% %8s | %9.3f %10.3g %5.0f%% %4.0f%% %8s\n",
                nodes, bs.total() * 1e3, t1_strong / bs.total(),
                100 * t1_strong / (nodes * bs.total()), 100 * (bs.row_s + bs.column_s) / bs.total(),
                gs.c_str(), bw.total() * 1e3, double(weak.m), 100 * t1_weak / bw.total(),
                100 * (bw.row_s + bw.column_s) / bw.total(), gw.c_str());
  }
  return 0;
}

template <class T>
void bench(const BenchArgs& a, int threads) {
  const std::int64_t n = a.n, d = a.d, d_out = a.d_out, m = a.m;
  const std::int64_t block = a.block > 0 ? a.block : model::auto_block(n, m, threads, sizeof(T));
  const train::SyntheticShard<T> shard = train::synthetic_shard<T>(n, d, d_out, m);
  const std::vector<T>& X = shard.X;
  const model::Params<T>& p = shard.params;
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

  // The fused step over the whole width: the training step of a one-rank run.
  const double t_step = [&] {
    train::OneRankStep<T> step(shard, block, threads, /*logit_cache=*/false);
    return time_median(a.repeats, [&] { step.step(); });
  }();
  // The same step with pass 1's exponentials kept (--logit-cache): no recomputed GEMM or exp.
  const double t_cached = [&] {
    train::OneRankStep<T> step(shard, block, threads, /*logit_cache=*/true);
    return time_median(a.repeats, [&] { step.step(); });
  }();
  // The hardware's ceiling, measured now on the same threads and precision.
  const model::FmaPeak peak = model::measure_fma_peak(threads, sizeof(T) == 4);
  const double peak_flops = peak.gflops * 1e9;
  const double r_logits = flops / t_logits, r_grad = flops / t_grad;
  const double t_roof = 2 * t_logits + t_grad + 2.0 * n * m / r_exp;
  const double t_roof_cached = t_logits + t_grad + 1.0 * n * m / r_exp;
  std::printf(
      "widemax bench: n=%lld d=%lld d_out=%lld m=%lld %s, %d thread(s), block %lld, "
      "median of %d\n",
      (long long)n, (long long)d, (long long)d_out, (long long)m,
      train::to_string(a.precision).c_str(), threads, (long long)block, a.repeats);
  const nlohmann::json k = blas_kernels();
  std::printf("  BLAS kernels %s (%s: %s)\n", k["core"].get<std::string>().c_str(),
              k["choice"].get<std::string>().c_str(), k["why"].get<std::string>().c_str());
  std::printf(
      "  FMA peak (%s, %d thread(s), %s)  %8.1f GFLOP/s, measured now: %d FMA chains per "
      "thread\n",
      peak.isa.c_str(), peak.threads, train::to_string(a.precision).c_str(), peak.gflops,
      peak.chains);
  std::printf("  exp (SLEEF %s)        %8.2f Gelem/s\n", model::vec_exp_isa(), r_exp / 1e9);
  std::printf("  GEMM X W_blk^T        %8.1f GFLOP/s  (%.1f ms)  %3.0f%% of the FMA peak\n",
              r_logits / 1e9, t_logits * 1e3, 100 * r_logits / peak_flops);
  std::printf("  GEMM G^T X            %8.1f GFLOP/s  (%.1f ms)  %3.0f%% of the FMA peak\n",
              r_grad / 1e9, t_grad * 1e3, 100 * r_grad / peak_flops);
  // The likely cause of a slow GEMM, decided once: kernels below the CPU, a small d, or sharing.
  const CpuFeatures cpu = detect_cpu();
  const int tier_now = openblas_core_tier(k["core"].get<std::string>());
  const std::string cause =
      tier_now != 0 && tier_now < cpu_tier(cpu)
          ? cat("the BLAS runs its ", k["core"].get<std::string>(), " kernels on a CPU that runs ",
                best_openblas_core(cpu), " (", k["why"].get<std::string>(), ")")
      : d < 128 ? cat("the inner dimension d = ", d,
                      " is small: the GEMM is bound by memory, not by FMAs (try a larger "
                      "--d to see the kernels' own rate)")
                : std::string(
                      "threads sharing cores (oversubscription) or a throttled "
                      "CPU; the kernels match the CPU");
  for (const auto& [name, r] : {std::pair{"X W_blk^T", r_logits}, std::pair{"G^T X", r_grad}}) {
    if (r >= 0.5 * peak_flops) continue;
    std::printf("  warning: GEMM %s reaches %.0f%% of the FMA peak, below half; likely cause: %s\n",
                name, 100 * r / peak_flops, cause.c_str());
  }
  std::printf(
      "  fused step, recomputing    %8.1f ms  %.3g neuron-samples/s  %3.0f%% of its roofline "
      "(2 logit GEMMs + 1 gradient GEMM + 2 exps at the rates above: %.1f ms)\n",
      t_step * 1e3, double(n) * m / t_step, 100 * t_roof / t_step, t_roof * 1e3);
  std::printf(
      "  fused step, logit cache    %8.1f ms  %.3g neuron-samples/s  %3.0f%% of its roofline "
      "(1 logit GEMM + 1 gradient GEMM + 1 exp: %.1f ms)\n",
      t_cached * 1e3, double(n) * m / t_cached, 100 * t_roof_cached / t_cached,
      t_roof_cached * 1e3);
  // The step against the hardware: its GEMM FLOPs (3 x 2ndm recomputing, 2 x 2ndm cached) at
  // the FMA peak.
  std::printf(
      "  against the FMA peak: recomputing %.0f%%, logit cache %.0f%% (their GEMM FLOPs, %.3g and "
      "%.3g, at %.1f GFLOP/s)\n",
      100 * 3 * flops / peak_flops / t_step, 100 * 2 * flops / peak_flops / t_cached, 3 * flops,
      2 * flops, peak.gflops);
  std::printf(
      "BENCH_CHECK step_ms=%.4f cached_ms=%.4f roof_ms=%.4f roof_cached_ms=%.4f peak_gflops=%.4f "
      "gemm_logits_gflops=%.4f gemm_grad_gflops=%.4f blas_core=%s\n",
      t_step * 1e3, t_cached * 1e3, t_roof * 1e3, t_roof_cached * 1e3, peak.gflops, r_logits / 1e9,
      r_grad / 1e9, k["core"].get<std::string>().c_str());
}

}  // namespace

int run_bench(const std::vector<std::string>& args) {
  BenchArgs a;
  std::string width = std::to_string(a.m);
  po::options_description desc("widemax bench options");
  desc.add_options()("n", value_of(a.n), "samples")("d", value_of(a.d), "input dimension")(
      "d-out", value_of(a.d_out), "outputs")("width", value_of(width), "neurons: 65536, 1e6, 2^20")(
      "precision", typed_value(a.precision, train::parse_precision), "fp64 | fp32")(
      "threads", value_of(a.threads), "OpenMP/BLAS threads (0: as for train)")(
      "block", value_of(a.block), "neurons per block (0: automatic)")(
      "repeats", value_of(a.repeats), "timed repetitions (median)")(
      "predict", po::bool_switch(&a.predict),
      "evaluate the performance model (measured GEMM/exp rates + alpha-beta all-reduces), check "
      "it against real steps on this world (run it under mpirun -np P), and tabulate predicted "
      "strong and weak scaling to --max-nodes nodes")("grid", value_of(a.grid),
                                                      "predict: grid of the real steps, PdxPw")(
      "logit-cache", typed_value(a.logit_cache, train::parse_logit_cache),
      "predict: as for train (auto | on | off)")(
      "net-latency", value_of(a.cluster_latency_us),
      "predict: the cluster table's all-reduce latency, microseconds")(
      "net-bandwidth", value_of(a.cluster_bandwidth_gbs),
      "predict: the cluster table's bandwidth per node, GB/s (12.5: 100 Gb/s InfiniBand)")(
      "node-cores", value_of(a.node_cores),
      "predict: cores per node of the cluster table (0: this node's CPUs)")(
      "max-nodes", value_of(a.max_nodes), "predict: largest node count of the table")("help,h",
                                                                                      "this help");
  po::variables_map vm;
  std::string help;
  const comm::Communicator world(MPI_COMM_WORLD);
  bool run = false;
  // Every rank parses the same arguments; they agree on the outcome, so a bad one is printed once.
  comm::agree_on_errors(world, [&] {
    run = parse_options(
        args, desc, "bench",
        "widemax bench: kernel rates (exp, block GEMMs) and the fused step on one rank, with "
        "neuron-samples/s and the fraction of a roofline from the measured rates; with --predict, "
        "the performance model against real steps and its scaling table\n\nUsage: widemax bench "
        "[options]",
        vm, help);
    if (!run) return;
    a.m = parse_count(width, "--width");
    WIDEMAX_CHECK(a.n >= 1 && a.d >= 1 && a.d_out >= 1 && a.repeats >= 1,
                  "--n, --d, --d-out and --repeats must be >= 1");
    WIDEMAX_CHECK(a.max_nodes >= 1 && a.node_cores >= 0 && a.cluster_latency_us >= 0 &&
                      a.cluster_bandwidth_gbs > 0,
                  "--max-nodes must be >= 1, --node-cores >= 0, --net-latency >= 0 and "
                  "--net-bandwidth > 0");
  });
  const int rank = world.rank();
  if (!run) {
    if (rank == 0) std::cout << help;
    return 0;
  }
  const int threads = resolve_threads(a.threads, world);
  if (a.predict) return predict(a, threads);
  if (rank != 0) return 0;  // a rank-local benchmark: rank 0 measures
  if (a.precision == train::Precision::kFp32)
    bench<float>(a, threads);
  else
    bench<double>(a, threads);
  return 0;
}

}  // namespace widemax::cli
