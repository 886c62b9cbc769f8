import Comm
import CommMPI
import Foundation
import RunConfig

/// How this process joins the job: MPI when a launcher started it (mpirun, or srun with
/// PMIx), a world of one otherwise. Ranks and sizes always come from MPI itself; the
/// environment only tells whether an MPI launcher is present.
enum World {
    /// Whether an MPI launcher started this process.
    static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil || env["PMI_RANK"] != nil
    }

    /// Initialises MPI if a launcher started this process.
    static func start() throws(CommError) {
        if launchedByMPI {
            try MPIRuntime.initialize()
        } else if let tasks = ProcessInfo.processInfo.environment["SLURM_NTASKS"].flatMap(Int.init), tasks > 1 {
            // srun without PMIx starts independent processes that would each train alone.
            FileHandle.standardError.write(Data("lockstep: warning: SLURM started \(tasks) tasks but no MPI launcher is visible, so each trains alone as a world of 1; launch with srun --mpi=pmix (or mpirun)\n".utf8))
        }
    }

    /// The communicator for a run with these settings.
    static func communicator(_ settings: TrainingConfig.CommSettings) throws(CommError) -> Communicator {
        guard MPIRuntime.isInitialized else { return SingleProcessCommunicator() }
        return try MPICommunicator(options: settings.allReduce, progress: settings.progress)
    }

    /// This process's world rank, or 0 without MPI. For deciding who prints.
    static var rank: Int {
        guard MPIRuntime.isInitialized else { return 0 }
        return MPIRuntime.worldRank
    }

    /// The number of ranks, 1 without MPI.
    static var size: Int {
        guard MPIRuntime.isInitialized else { return 1 }
        return MPIRuntime.worldSize
    }

    /// The ranks on this process's node, as the launcher says (Open MPI's
    /// OMPI_COMM_WORLD_LOCAL_SIZE), before any communicator exists; 1 if it does not say.
    static var ranksOnNode: Int {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
    }

    static func finish() { MPIRuntime.finalize() }
}
