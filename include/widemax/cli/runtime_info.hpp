// Threads and placement of each rank: how many OpenMP/BLAS threads it runs, on which CPUs it may
// run, and which BLAS is loaded. Printed at start, because the classic silent failure on a cluster
// is a rank bound to one core running its "8 threads" on that core.
#pragma once

#include <nlohmann/json.hpp>

#include "widemax/comm/communicator.hpp"

namespace widemax::cli {

// Before MPI_Init, in main(): asks the BLAS which kernels it runs and, when they are below what
// the CPU supports (core/cpu.hpp's choose_blas_core), restarts this process image once with
// OPENBLAS_CORETYPE set to the best core (execv of /proc/self/exe, same arguments), so the library
// loads the right kernels before any GEMM. OPENBLAS_CORETYPE set by the user wins;
// WIDEMAX_BLAS_CORE=keep turns this off, WIDEMAX_BLAS_CORE=<core> forces one. Returns only when
// no restart is needed (or the restart failed, which is then reported).
void ensure_blas_kernels(char** argv);
// After MPI_Init: a refused WIDEMAX_BLAS_CORE becomes the error every rank raises alike.
void check_blas_kernels();
// The kernels the BLAS runs and why: {"core", "choice", "why", "cpu"}.
nlohmann::json blas_kernels();

// Chooses the threads per rank (requested > 0: that; else OMP_NUM_THREADS when set; else the
// CPUs this process may use divided by the ranks on this node) and applies it to OpenMP and BLAS.
// Warns when ranks x threads exceeds the node's CPUs. Collective over `world`.
int resolve_threads(int requested, const comm::Communicator& world);

// Each rank's host, allowed CPUs and threads, and the BLAS build; rank 0 prints one line per rank.
// Collective over `world`.
nlohmann::json describe_runtime(const comm::Communicator& world, int threads, bool print);

}  // namespace widemax::cli
