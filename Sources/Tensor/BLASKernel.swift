import CBLAS
import Foundation

/// The OpenBLAS kernel family this process runs, and the one its CPU deserves.
///
/// OpenBLAS built with DYNAMIC_ARCH (Debian's is) picks its kernels from the CPU model when the
/// library loads. A model newer than the build falls back to Prescott, the SSE3 kernels:
/// Debian 12's OpenBLAS 0.3.21 does that on Sapphire and Emerald Rapids, where its own
/// Cooperlake kernels run a 1024³ SGEMM five times faster. The choice can only be changed
/// before the library loads, through OPENBLAS_CORETYPE; `lockstep` therefore starts itself
/// again once with it set (`upgrade`), unless the user has set it.
public enum BLASKernel {
    /// The environment variable that tells which kernel lockstep chose in place of OpenBLAS's.
    public static let replacedVariable = "LOCKSTEP_OPENBLAS_REPLACED"

    /// openblas_get_corename(), e.g. "cooperlake" or "prescott".
    public static var current: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's kernel families from the oldest up, as OPENBLAS_CORETYPE names them: the
    /// SSE-only ones, then AVX, AVX2 and AVX-512 (with BF16).
    static let tiers: [(tier: Int, names: [String])] = [
        (0, ["katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn", "dunnington", "nehalem"]),
        (1, ["sandybridge"]),
        (2, ["haswell", "zen"]),
        (3, ["skylakex"]),
        (4, ["cooperlake", "sapphirerapids"]),
    ]

    /// A kernel's place in `tiers`, or nil for a name that is not one of them.
    public static func tier(_ name: String) -> Int? {
        tiers.first { $0.names.contains(name.lowercased()) }?.tier
    }

    /// The best of OpenBLAS's x86 kernels that CPUs with these /proc/cpuinfo `flags` run.
    static func best(forFlags flags: Set<String>) -> String? {
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        if flags.isSuperset(of: avx512 + ["avx512_bf16"]) { return "Cooperlake" }
        if flags.isSuperset(of: avx512) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The kernel to start again with: one when OpenBLAS fell back to a pre-AVX2 kernel on a
    /// CPU with AVX2 or AVX-512 and OPENBLAS_CORETYPE is not set; nil otherwise (a kernel the
    /// library picked for a CPU it knows is left alone).
    public static func upgrade(current: String, cpuFlags: Set<String>, environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, let have = tier(current), have <= 1,
              let want = best(forFlags: cpuFlags), let better = tier(want), better > have else { return nil }
        return want
    }

    /// What the run header says of the kernel: nil when OpenBLAS chose it, otherwise e.g.
    /// "OpenBLAS chose Prescott for this CPU; running Cooperlake (set OPENBLAS_CORETYPE to choose)".
    public static var replacementNote: String? {
        guard let replaced = ProcessInfo.processInfo.environment[replacedVariable],
              let chosen = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] else { return nil }
        return "OpenBLAS chose its \(replaced) kernels for this CPU; running \(chosen) (set OPENBLAS_CORETYPE to choose)"
    }
}
