import Foundation
import Tensor

/// The machine a scaling report was made on: what a reader needs to judge its numbers.
public struct MachineInfo: Codable, Equatable, Sendable {
    public var hostname: String
    /// /proc/cpuinfo's model name.
    public var cpuModel: String
    /// Physical cores this process may run on: what mpirun counts as slots.
    public var cores: Int
    /// Logical CPUs (hardware threads) this process may run on.
    public var logicalCPUs: Int
    /// The last-level cache, as the kernel reports it (e.g. "32768K"), if known.
    public var lastLevelCache: String?
    public var memoryGB: Double
    /// openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
    public var openBLAS: String
    /// The MPI library, from `mpirun --version` (e.g. "mpirun (Open MPI) 4.1.4").
    public var mpi: String
    /// The launcher's own version when it is not mpirun (srun).
    public var launcherVersion: String?
    /// `uname -sr`.
    public var kernel: String

    enum CodingKeys: String, CodingKey {
        case hostname, cpuModel = "cpu_model", cores, logicalCPUs = "logical_cpus", lastLevelCache = "last_level_cache"
        case memoryGB = "memory_gb", openBLAS = "openblas", mpi, launcherVersion = "launcher_version", kernel
    }

    public init(hostname: String, cpuModel: String, cores: Int, logicalCPUs: Int, lastLevelCache: String?, memoryGB: Double,
                openBLAS: String, mpi: String, launcherVersion: String?, kernel: String) {
        self.hostname = hostname
        self.cpuModel = cpuModel
        self.cores = cores
        self.logicalCPUs = logicalCPUs
        self.lastLevelCache = lastLevelCache
        self.memoryGB = memoryGB
        self.openBLAS = openBLAS
        self.mpi = mpi
        self.launcherVersion = launcherVersion
        self.kernel = kernel
    }

    /// This machine, as seen from this process.
    /// - Parameter launcher: "srun" also records `srun --version`.
    public static func current(launcher: String = "mpirun") -> MachineInfo {
        let logical = ProcessInfo.processInfo.activeProcessorCount
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let mpi = ExternalCommand.firstLine(["mpirun", "--version"]) ?? "unknown (mpirun not found)"
        return MachineInfo(
            hostname: ProcessInfo.processInfo.hostName, cpuModel: cpuModel(), cores: min(physicalCores() ?? logical, logical),
            logicalCPUs: logical, lastLevelCache: lastLevelCache(),
            memoryGB: (Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824 * 10).rounded() / 10,
            openBLAS: BLASThreads.configuration.trimmingCharacters(in: .whitespaces), mpi: mpi,
            launcherVersion: launcher == "srun" ? ExternalCommand.firstLine(["srun", "--version"]) : nil,
            kernel: "\(field(name.sysname)) \(field(name.release))")
    }

    /// The first "model name" of /proc/cpuinfo.
    static func cpuModel() -> String { cpuinfoField("model name") ?? "unknown" }

    /// The value of the first processor's `name` line in /proc/cpuinfo (e.g. "flags"); nil
    /// where there is no such file or line.
    public static func cpuinfoField(_ name: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Distinct (package, core) pairs among the online CPUs, from sysfs.
    static func physicalCores() -> Int? {
        let base = "/sys/devices/system/cpu"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: base) else { return nil }
        var cores = Set<String>()
        for cpu in entries where cpu.hasPrefix("cpu") && Int(cpu.dropFirst(3)) != nil {
            let topology = "\(base)/\(cpu)/topology"
            guard let core = try? String(contentsOfFile: topology + "/core_id", encoding: .utf8),
                  let package = try? String(contentsOfFile: topology + "/physical_package_id", encoding: .utf8) else { continue }
            cores.insert(package.trimmingCharacters(in: .whitespacesAndNewlines) + "/" + core.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return cores.isEmpty ? nil : cores.count
    }

    /// The size of cpu0's highest-level cache.
    static func lastLevelCache() -> String? {
        let base = "/sys/devices/system/cpu/cpu0/cache"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: base) else { return nil }
        var best: (level: Int, size: String)?
        for index in entries where index.hasPrefix("index") {
            guard let level = (try? String(contentsOfFile: "\(base)/\(index)/level", encoding: .utf8)).flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
                  let size = try? String(contentsOfFile: "\(base)/\(index)/size", encoding: .utf8) else { continue }
            if best == nil || level > best!.level { best = (level, size.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return best.map { "L\($0.level) \($0.size)" }
    }
}
