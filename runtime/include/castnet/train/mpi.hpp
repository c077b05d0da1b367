// MPI for the trainer (collective.hpp), in libcastnet_mpi: only runners built for `mpirun` (the
// castnet CLI does so when it runs under mpirun, or with --distributed) link it, so castnet itself
// builds and runs without MPI.
#pragma once

#include <castnet/train/collective.hpp>

#include <memory>

namespace castnet {

// Joins the MPI job this process was started in (MPI_Init_thread; only the calling thread will
// call MPI). The Collective finalises MPI when destroyed. Throws castnet::Error if MPI cannot start.
std::unique_ptr<Collective> connect_mpi(int& argc, char**& argv);

}  // namespace castnet
