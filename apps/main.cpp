// The `widemax` executable: MPI set-up, sub-command dispatch, and the one place where errors end
// the job (core/error.hpp). An error every rank raised alike (a bad option, or one the ranks agreed
// on with comm::agree_on_errors) is printed once, by rank 0, and every rank leaves through
// MPI_Finalize with status 2. Any other error is printed by the rank that saw it and followed by
// MPI_Abort, so that the other ranks never wait in a collective that will not come.
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "widemax/cli/commands.hpp"
#include "widemax/cli/runtime_info.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/version.hpp"
#include "widemax/run/run.hpp"

namespace {

const char* kUsage =
    "widemax: distributed CPU training of very wide two-layer softmax networks\n"
    "\n"
    "Usage: mpirun -np P widemax COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  train      train F(x) = c A softmax(W^T x) (or exp, relu) by gradient descent\n"
    "  ntk        compute the empirical NTK and its spectrum, without training\n"
    "  predict    apply a trained network (a 'train --save' run) to the rows of a CSV file\n"
    "  bench      kernel rates and the fused step on this machine, against a roofline;\n"
    "             --predict: the performance model and its scaling table\n"
    "  diffusion  train the network as a score model (denoising score matching), then sample\n"
    "  polarize   train y = V softmax(a) and log the entropy of softmax(a) (docs/design.md §1.2)\n"
    "  count      print counts (2^18, 1e6, 4M) as --width reads them, for scripts\n"
    "\n"
    "'widemax COMMAND --help' lists the options of a command.\n";

constexpr int kExitError = 2;

[[noreturn]] void die(const std::string& message, int rank, int size) {
  if (size > 1)
    std::fprintf(stderr, "widemax: error: [rank %d] %s\n", rank, message.c_str());
  else
    std::fprintf(stderr, "widemax: error: %s\n", message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, kExitError);
  std::_Exit(kExitError);
}

// Under Slurm, the MPI world must be the job's tasks. A launch that did not wire MPI to Slurm
// (for example `srun --mpi=none`, or a PMI plugin Open MPI was not built for) starts every
// process as rank 0 of 1, and each would silently train the whole model alone. Rank 0's
// environment decides: under mpirun the other ranks inherit the environment of the daemons'
// launch step, whose SLURM_NTASKS is not the job's.
void check_slurm_world(int size) {
  const char* ntasks = std::getenv("SLURM_NTASKS");
  const char* ignore = std::getenv("WIDEMAX_IGNORE_SLURM_NTASKS");
  int expected = -1;
  if (ntasks && std::getenv("SLURM_JOB_ID") && !(ignore && std::string(ignore) == "1"))
    expected = std::atoi(ntasks);
  MPI_Bcast(&expected, 1, MPI_INT, 0, MPI_COMM_WORLD);
  // Every rank holds rank 0's figure now: all refuse alike, and rank 0 prints it.
  WIDEMAX_CHECK_ALL_HINT(
      expected < 0 || expected == size,
      "launch with 'srun --mpi=pmix widemax ...' or 'mpirun widemax ...' inside the allocation "
      "(Debian's Open MPI supports PMIx only); set WIDEMAX_IGNORE_SLURM_NTASKS=1 to run fewer "
      "ranks "
      "on purpose",
      "running under Slurm job ", std::getenv("SLURM_JOB_ID") ? std::getenv("SLURM_JOB_ID") : "?",
      " with SLURM_NTASKS=", expected, ", but the MPI world has ", size, " rank",
      size == 1 ? "" : "s", size == 1 ? ": every process is rank 0 of 1" : "");
}

}  // namespace

int main(int argc, char** argv) {
  // Before MPI_Init and any GEMM: it may restart this process with better BLAS kernels.
  widemax::cli::ensure_blas_kernels(argv);
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  widemax::log::set_rank(rank, size);
  widemax::run::set_command_line(argc, argv);

  std::vector<std::string> args(argv + 1, argv + argc);
  int status = 0;
  try {
    widemax::cli::check_blas_kernels();
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      if (rank == 0) std::fputs(kUsage, stdout);
      status = args.empty() ? 1 : 0;
    } else if (args[0] == "--version") {
      if (rank == 0) std::printf("widemax %s (%s)\n", widemax::version(), widemax::git_commit());
    } else if (args[0] == "train") {
      check_slurm_world(size);
      status = widemax::cli::run_train({args.begin() + 1, args.end()});
    } else if (args[0] == "bench") {
      status = widemax::cli::run_bench({args.begin() + 1, args.end()});
    } else if (args[0] == "diffusion") {
      check_slurm_world(size);
      status = widemax::cli::run_diffusion({args.begin() + 1, args.end()});
    } else if (args[0] == "ntk") {
      check_slurm_world(size);
      status = widemax::cli::run_ntk({args.begin() + 1, args.end()});
    } else if (args[0] == "predict") {
      check_slurm_world(size);
      status = widemax::cli::run_predict({args.begin() + 1, args.end()});
    } else if (args[0] == "count") {
      status = widemax::cli::run_count({args.begin() + 1, args.end()});
    } else if (args[0] == "polarize") {
      check_slurm_world(size);
      status = widemax::cli::run_polarize({args.begin() + 1, args.end()});
    } else {
      WIDEMAX_FAIL_ALL_HINT("run 'widemax --help' for the list of commands", "unknown command '",
                            args[0], "'");
    }
  } catch (const widemax::Error& e) {
    if (!e.on_all_ranks()) die(widemax::describe(e), rank, size);
    if (rank == 0) {
      std::fprintf(stderr, "widemax: error: %s\n", widemax::describe(e).c_str());
      std::fflush(stderr);
    }
    status = kExitError;
  } catch (const std::exception& e) {
    die(e.what(), rank, size);  // not one of widemax's checks (std::bad_alloc, ...): this rank's
  }
  MPI_Finalize();
  return status;
}
