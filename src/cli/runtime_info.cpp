// Thread resolution and the start-up placement report. See runtime_info.hpp.
#include "widemax/cli/runtime_info.hpp"

#include <cblas.h>
#include <omp.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "widemax/core/cpu.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/system.hpp"
#include "widemax/model/vec_exp.hpp"

namespace widemax::cli {

namespace {

int allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return static_cast<int>(std::thread::hardware_concurrency());
  return CPU_COUNT(&set);
}

std::string allowed_cpu_list() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return "?";
  std::string out;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    int e = c;
    while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set)) ++e;
    if (!out.empty()) out += ",";
    out += e > c ? std::to_string(c) + "-" + std::to_string(e) : std::to_string(c);
    c = e;
  }
  return out;
}

const char* blas_parallel_name(int p) {
  return p == 0 ? "sequential" : p == 1 ? "pthreads" : p == 2 ? "openmp" : "unknown";
}

BlasCoreChoice g_choice;
bool g_restart_failed = false;  // the execv of ensure_blas_kernels failed: warned at start
std::string g_core;
CpuFeatures g_cpu;

}  // namespace

void ensure_blas_kernels(char** argv) {
  g_cpu = detect_cpu();
  g_core = openblas_get_corename();
  const char* from = std::getenv("WIDEMAX_BLAS_REEXEC");
  g_choice = choose_blas_core(g_core, g_cpu, std::getenv("OPENBLAS_CORETYPE"),
                              std::getenv("WIDEMAX_BLAS_CORE"), from);
  if (g_choice.action != BlasCoreChoice::Action::kReexec) return;
  // OpenBLAS reads OPENBLAS_CORETYPE when it is loaded: only a new process image changes the
  // kernels. WIDEMAX_BLAS_REEXEC marks the second image, which never restarts again. Nothing has
  // run yet (MPI_Init comes after), so the launcher sees the same process.
  setenv("OPENBLAS_CORETYPE", g_choice.target.c_str(), 1);
  setenv("WIDEMAX_BLAS_REEXEC", g_core.c_str(), 1);
  execv("/proc/self/exe", argv);
  const int err = errno;
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv("WIDEMAX_BLAS_REEXEC");
  g_choice.action = BlasCoreChoice::Action::kKeep;
  g_choice.why =
      cat("the library chose ", g_core, " on a CPU that runs ", g_choice.target,
          ", but restarting with OPENBLAS_CORETYPE=", g_choice.target, " failed (",
          std::strerror(err), "): set OPENBLAS_CORETYPE=", g_choice.target, " before the launch");
  g_choice.how = "detected";
  g_restart_failed = true;
}

void check_blas_kernels() {
  WIDEMAX_CHECK_ALL(g_choice.action != BlasCoreChoice::Action::kRefuse, g_choice.why);
}

nlohmann::json blas_kernels() {
  return {{"core", g_core}, {"choice", g_choice.how}, {"why", g_choice.why}, {"cpu", g_cpu.text()}};
}

int resolve_threads(int requested, const comm::Communicator& world) {
  const int local = world.ranks_on_node();
  const int node_cpus = static_cast<int>(std::thread::hardware_concurrency());
  int threads = requested;
  if (threads <= 0) {
    const char* env = std::getenv("OMP_NUM_THREADS");
    threads = env ? std::atoi(env) : 0;
    if (threads <= 0) threads = std::max(1, node_cpus / std::max(local, 1));
  }
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
  const bool oversubscribed = local * threads > node_cpus;
  if (oversubscribed && world.rank() == 0)
    log::warn(cat(local, " ranks x ", threads, " threads on a node with ", node_cpus,
                  " CPUs: oversubscribed (set --threads to ", std::max(1, node_cpus / local), ")"));
  if (allowed_cpus() < threads)
    log::warn(cat("this rank may run on only ", allowed_cpus(), " CPU(s) (", allowed_cpu_list(),
                  ") but uses ", threads,
                  " threads: they will share cores. Under mpirun use "
                  "--bind-to none or --map-by slot:PE=",
                  threads));
  return threads;
}

nlohmann::json describe_runtime(const comm::Communicator& world, int threads, bool print) {
  const int parallel = openblas_get_parallel();
  const std::string mine =
      cat("rank ", world.rank(), "/", world.size(), " host ", hostname(), " cpus ",
          allowed_cpu_list(), " threads ", threads, " blas ", g_core);
  const std::vector<std::string> lines = world.allgather(mine);
  if (print) {
    for (const auto& l : lines) log::info("  " + l);
    log::info(cat("  BLAS: ", openblas_get_config(), " (", blas_parallel_name(parallel),
                  "); kernels ", g_core, " (", g_choice.how, ": ", g_choice.why, "); exp: SLEEF ",
                  model::vec_exp_isa()));
  }
  if (world.rank() == 0 && g_restart_failed) log::warn(g_choice.why);
  if (parallel != 2 && world.rank() == 0)
    log::warn(cat("the loaded OpenBLAS is the ", blas_parallel_name(parallel),
                  " build, not the OpenMP one: BLAS threads will not follow --threads "
                  "(install libopenblas-openmp-dev)"));
  return {{"placement", lines},
          {"blas", openblas_get_config()},
          {"blas_parallel", blas_parallel_name(parallel)},
          {"blas_kernels", blas_kernels()},
          {"exp_isa", model::vec_exp_isa()},
          {"threads_per_rank", threads}};
}

}  // namespace widemax::cli
