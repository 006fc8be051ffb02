// The P_data x P_width process grid. See grid.hpp.
#include "widemax/comm/grid.hpp"

#include "mpi_types.hpp"
#include "widemax/core/error.hpp"

namespace widemax::comm {

namespace {
MPI_Comm split(MPI_Comm world, int color, int key) {
  MPI_Comm out = MPI_COMM_NULL;
  WIDEMAX_MPI(MPI_Comm_split(world, color, key, &out));
  return out;
}
int world_size(MPI_Comm c) {
  int s = 0;
  MPI_Comm_size(c, &s);
  return s;
}
int world_rank(MPI_Comm c) {
  int r = 0;
  MPI_Comm_rank(c, &r);
  return r;
}
// Refuses a grid that does not match the world before any communicator is made.
MPI_Comm checked(MPI_Comm world, int p_data, int p_width) {
  WIDEMAX_CHECK_HINT(p_data >= 1 && p_width >= 1 && p_data * p_width == world_size(world),
                     "use --grid PdxPw with Pd * Pw equal to the number of MPI ranks", "--grid: a ",
                     p_data, "x", p_width, " grid needs ", p_data * p_width, " ranks, but ",
                     world_size(world), " were started");
  return world;
}
}  // namespace

Grid::Grid(MPI_Comm world, int p_data, int p_width)
    : p_data_(p_data),
      p_width_(p_width),
      world_(checked(world, p_data, p_width)),
      row_(Communicator::adopt(split(world, world_rank(world) / p_width, world_rank(world)))),
      col_(Communicator::adopt(split(world, world_rank(world) % p_width, world_rank(world)))) {}

}  // namespace widemax::comm
