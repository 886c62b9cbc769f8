import Foundation

/// Where the project and its built binary are, and how tests launch it: alone, or under the
/// real mpirun with `--oversubscribe` (CI runs as root, hence the OMPI_ALLOW variables).
public enum Lockstep {
    /// The repository root (this file is Tests/TestSupport/Lockstep.swift).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `root/relative`.
    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// The `lockstep` binary built alongside the tests (LOCKSTEP_BIN overrides it).
    public static let binary: String = {
        if let explicit = ProcessInfo.processInfo.environment["LOCKSTEP_BIN"] { return explicit }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lockstep").path
        for candidate in [beside, path(".build/release/lockstep"), path(".build/debug/lockstep")]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return path(".build/release/lockstep")
    }()

    /// The environment every launch gets: one OpenBLAS thread, and mpirun allowed as root.
    public static let environment: [String: String] = [
        "OMPI_ALLOW_RUN_AS_ROOT": "1",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OPENBLAS_NUM_THREADS": "1",
        // Oversubscribed ranks yield the core while they wait instead of spinning.
        "OMPI_MCA_mpi_yield_when_idle": "1",
    ]

    /// Runs `lockstep arguments…` as one process.
    public static func run(_ arguments: [String], environment extra: [String: String] = [:], timeout: Double = 300) -> ProcessResult {
        runProcess(binary, arguments, environment: environment.merging(extra) { $1 }, currentDirectory: root,
                   timeout: timeout)
    }

    /// Runs `lockstep arguments…` as `ranks` ranks under `mpirun --oversubscribe`.
    public static func mpirun(_ ranks: Int, _ arguments: [String], mpiArguments: [String] = [],
                              environment extra: [String: String] = [:], timeout: Double = 300) -> ProcessResult {
        runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", String(ranks)] + mpiArguments + [binary] + arguments,
                   environment: environment.merging(extra) { $1 }, currentDirectory: root, timeout: timeout)
    }

    /// A new empty folder under the system's temp folder.
    public static func temporaryDirectory(_ label: String = "test") -> String {
        let dir = NSTemporaryDirectory() + "lockstep-\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Reads a run summary written with --summary.
    public static func summary(at path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NSError(domain: "lockstep-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(path) is not a JSON object"])
        }
        return object
    }
}
