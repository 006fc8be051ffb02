// The `widemax` executable: MPI set-up, sub-command dispatch, and the one place where errors end
// the job. An error on any rank is printed by that rank and followed by MPI_Abort, so the other
// ranks never wait in a collective that will not come.
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "widemax/cli/commands.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"

namespace {

const char* kUsage =
    "widemax: distributed CPU training of very wide two-layer softmax networks\n"
    "\n"
    "Usage: mpirun -np P widemax COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  train    train F(x) = c A softmax(W^T x) (or exp, relu) by gradient descent\n"
    "  ntk      compute the empirical NTK and its spectrum, without training\n"
    "\n"
    "'widemax COMMAND --help' lists the options of a command.\n";

[[noreturn]] void die(const std::string& message, int rank, int size) {
  if (size > 1)
    std::fprintf(stderr, "widemax: error: [rank %d] %s\n", rank, message.c_str());
  else
    std::fprintf(stderr, "widemax: error: %s\n", message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 2);
  std::_Exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  widemax::log::set_rank(rank, size);

  std::vector<std::string> args(argv + 1, argv + argc);
  int status = 0;
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      if (rank == 0) std::fputs(kUsage, stdout);
      status = args.empty() ? 1 : 0;
    } else if (args[0] == "--version") {
      if (rank == 0) std::printf("widemax 0.1.0\n");
    } else if (args[0] == "train") {
      status = widemax::cli::run_train({args.begin() + 1, args.end()});
    } else if (args[0] == "ntk") {
      status = widemax::cli::run_ntk({args.begin() + 1, args.end()});
    } else {
      WIDEMAX_FAIL_HINT("run 'widemax --help' for the list of commands", "unknown command '",
                        args[0], "'");
    }
  } catch (const widemax::Error& e) {
    die(widemax::describe(e), rank, size);
  } catch (const std::exception& e) {
    die(e.what(), rank, size);
  }
  MPI_Finalize();
  return status;
}
