import Bench
import Checkpoint
import Foundation
import Host
import Reports
import RunConfig
import Tensor
import Train

/// What `lockstep` checks of the processor before anything else runs. This file, and Train
/// that it reads /proc/cpuinfo with, are compiled for the baseline instruction set, unlike the
/// kernels (see Package.swift).
enum ProcessorCheck {
    /// The `flags` of /proc/cpuinfo's first processor; nil where there is no such file.
    static func flags() -> Set<String>? {
        MachineInfo.cpuinfoField("flags").map { Set($0.split(separator: " ").map(String.init)) }
    }

    /// On x86-64 the release kernels use AVX2, FMA and F16C: without them exit 1 with a line
    /// that says so, rather than stop on an illegal instruction in the middle of a step.
    static func requireKernelFeatures() {
        #if arch(x86_64) && !DEBUG
        guard let flags = flags() else { return }
        let missing = ["avx2", "fma", "f16c"].filter { !flags.contains($0) }
        guard !missing.isEmpty else { return }
        FileHandle.standardError.write(Data(("lockstep: error: this processor lacks \(missing.joined(separator: ", ")), which this "
            + "release build needs (its kernels are compiled for x86-64-v3); run a debug build (swift build) on it\n").utf8))
        exit(ExitCode.failure)
        #endif
    }

    /// Starts this program again, in the same process, with OPENBLAS_CORETYPE set when OpenBLAS
    /// fell back to kernels far below what the CPU runs (see BLASKernel). Called first in main:
    /// before MPI starts and before any thread of ours; if exec fails, OpenBLAS's choice stands.
    static func restartWithBetterBLASKernel() {
        let current = BLASKernel.current
        guard let flags = flags(),
              let kernel = BLASKernel.upgrade(current: current, cpuFlags: flags, environment: ProcessInfo.processInfo.environment)
        else { return }
        setenv("OPENBLAS_CORETYPE", kernel, 1)
        setenv(BLASKernel.replacedVariable, current, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(BLASKernel.replacedVariable)
    }
}
