import Crypto
import Foundation
import Host
import Tensor

/// The GEMM plan measured on this machine, kept in
/// `${XDG_CACHE_HOME:-~/.cache}/lockstep/gemm-plan-<key>.json`, the key hashing what the
/// timings depend on: the CPU model, OpenBLAS's kernel family, oneDNN's version and the shapes.
/// Reading and writing never fail a run: a file that is missing, unreadable or for other
/// shapes is measured again, and a write that fails is skipped. Writes are atomic (a
/// temporary file renamed). `LOCKSTEP_GEMM_PLAN_CACHE=off` neither reads nor writes it.
struct GEMMPlanCache {
    struct File: Codable {
        var key: String
        var entries: [GEMMPlanEntry]
    }

    /// The environment variable that turns the cache off ("off").
    static let switchVariable = "LOCKSTEP_GEMM_PLAN_CACHE"

    let url: URL?
    let key: String

    init(shapes: [GEMMShape], environment: [String: String] = ProcessInfo.processInfo.environment) {
        let facts = [MachineInfo.cpuinfoField("model name") ?? "unknown", BLASKernel.current, OneDNN.version]
            + shapes.map(\.description)
        key = String(SHA256.hex(facts.joined(separator: "\n")).prefix(16))
        if environment[Self.switchVariable] == "off" {
            url = nil
        } else {
            let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
            url = base.appendingPathComponent("lockstep").appendingPathComponent("gemm-plan-\(key).json")
        }
    }

    /// The cached entries for exactly these shapes, or nil.
    func read(shapes: [GEMMShape]) -> [GEMMPlanEntry]? {
        guard let url, let data = try? Data(contentsOf: url),
              let file = try? JSONDecoder().decode(File.self, from: data),
              file.key == key, file.entries.map(\.shape) == shapes else { return nil }
        return file.entries
    }

    /// Writes the entries; false when it could not (the run goes on).
    @discardableResult
    func write(_ entries: [GEMMPlanEntry]) -> Bool {
        guard let url else { return false }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(File(key: key, entries: entries)) else { return false }
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try data.write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                try? FileManager.default.removeItem(at: temporary)
                return false
            }
            return true
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            return false
        }
    }
}
