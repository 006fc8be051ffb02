// Facts about the machine a rank runs on. No MPI here (ranks per node: comm/communicator.hpp).
#pragma once

#include <cstdint>
#include <string>

namespace widemax {

std::string hostname();
// MemAvailable of /proc/meminfo in bytes, or -1 when unknown.
std::int64_t mem_available_bytes();

}  // namespace widemax
