// Preemption signals. SIGUSR1 and SIGTERM (what Slurm sends with --signal=B:USR1@T, scancel
// --signal, or before a time limit) only set a flag; the training loop polls it once per step, and
// all ranks agree on it in one small all-reduce, then checkpoint and exit with kExitPreempted.
#pragma once

namespace widemax {

// sysexits.h EX_TEMPFAIL: "try again later". Job scripts requeue on it.
constexpr int kExitPreempted = 75;

void install_preemption_handlers();
bool preemption_requested();
// The signal that set the flag (0 when none).
int preemption_signal();

}  // namespace widemax
