import Foundation
import Host
import Tensor

/// The GEMM plan measured on this machine, kept in the machine cache (`MachineCache`) as
/// `gemm-plan-<key>.json`, the key hashing what the timings depend on besides the machine:
/// OpenBLAS's kernel family, oneDNN's version and the shapes. Reading and writing never fail a
/// run: a file that is missing, unreadable or for other shapes is measured again, and a write
/// that fails is skipped. `LOCKSTEP_GEMM_PLAN_CACHE=off` neither reads nor writes it.
struct GEMMPlanCache {
    struct File: Codable {
        var entries: [GEMMPlanEntry]
    }

    /// The environment variable that turns the cache off ("off").
    static let switchVariable = "LOCKSTEP_GEMM_PLAN_CACHE"

    /// The cache, nil when it is switched off.
    let cache: MachineCache?
    let path: String

    init(shapes: [GEMMShape], environment: [String: String] = ProcessInfo.processInfo.environment) {
        let machine = MachineCache(environment: environment)
        cache = environment[Self.switchVariable] == "off" ? nil : machine
        path = machine.path("gemm-plan", dependsOn: [BLASKernel.current, OneDNN.version] + shapes.map(\.description))
    }

    /// The cached entries for exactly these shapes, or nil.
    func read(shapes: [GEMMShape]) -> [GEMMPlanEntry]? {
        guard let file = cache?.read(File.self, at: path), file.entries.map(\.shape) == shapes else { return nil }
        return file.entries
    }

    /// Writes the entries; false when it could not (the run goes on).
    @discardableResult
    func write(_ entries: [GEMMPlanEntry]) -> Bool { cache?.write(File(entries: entries), at: path) ?? false }
}
