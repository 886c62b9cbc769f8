import Crypto
import Foundation

/// Small JSON files that hold what Lockstep measured about this machine (the core's peak FMA
/// rate, the fastest GEMM per shape), so that later runs start without measuring again.
///
/// They live in `$LOCKSTEP_CACHE_DIR`, else `$XDG_CACHE_HOME/lockstep`, else
/// `~/.cache/lockstep`, one file per measurement and machine: `<name>-<key>.json`, the key
/// being a digest of the hostname, the CPU model and whatever else the measurement depends on.
/// Reading or writing one never fails a run: a file that cannot be read, decoded or written
/// only means measuring again.
public struct MachineCache: Sendable {
    /// The directory the files live in.
    public let directory: String

    /// The cache of this process's environment.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let dir = environment["LOCKSTEP_CACHE_DIR"], !dir.isEmpty {
            directory = dir
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            directory = xdg + "/lockstep"
        } else {
            directory = (environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.cache/lockstep"
        }
    }

    /// The file for measurement `name` on this machine, given what else it depends on.
    public func path(_ name: String, dependsOn: [String] = []) -> String {
        let machine = [ProcessInfo.processInfo.hostName, MachineInfo.cpuModel()] + dependsOn
        return "\(directory)/\(name)-\(SHA256.hex(machine.joined(separator: "\n")).prefix(16)).json"
    }

    /// The value stored at `path`, or nil when there is none that decodes.
    public func read<T: Decodable>(_ type: T.Type, at path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(T.self, from: data)
    }

    /// Stores `value` at `path` through a temporary file and a rename, so that a reader sees
    /// the old file or the new one, never half of one. Returns whether it was stored.
    @discardableResult
    public func write<T: Encodable>(_ value: T, at path: String) -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(value),
              (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil else {
            return false
        }
        let temp = "\(path).\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temp, contents: data) else { return false }
        guard rename(temp, path) == 0 else {
            unlink(temp)
            return false
        }
        return true
    }
}
