import Foundation

/// What a finished process left behind.
public struct ProcessResult: Sendable {
    public let status: Int32
    /// stdout as the process wrote it, byte for byte.
    public let stdoutBytes: Data
    public let stderr: String
    /// Whether the process was killed at its deadline.
    public let timedOut: Bool
    public let seconds: Double

    /// stdout as UTF-8 text, invalid bytes replaced.
    public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }

    /// stdout and stderr, for failure messages.
    public var output: String { "exit \(status)\(timedOut ? " (timed out)" : "")\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

/// Runs `executable` with `arguments`, waits for it (killing it after `timeout` seconds),
/// and returns its exit status and output.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                       currentDirectory: String? = nil, timeout: Double = 300) -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let start = Date()
    let outData = OutputCollector(out.fileHandleForReading)
    let errData = OutputCollector(err.fileHandleForReading)
    do {
        try process.run()
    } catch {
        return ProcessResult(status: -1, stdoutBytes: Data(), stderr: "cannot start \(executable): \(error)", timedOut: false, seconds: 0)
    }
    let deadline = Date().addingTimeInterval(timeout)
    var timedOut = false
    while process.isRunning {
        if Date() > deadline {
            timedOut = true
            kill(-process.processIdentifier, SIGKILL)
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            break
        }
        usleep(20_000)
    }
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdoutBytes: outData.bytes(), stderr: errData.text(),
                         timedOut: timedOut, seconds: Date().timeIntervalSince(start))
}

/// Drains a pipe on a background thread, so that a chatty child never blocks on a full pipe.
final class OutputCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func bytes() -> Data {
        done.wait()
        return data
    }

    func text() -> String { String(decoding: bytes(), as: UTF8.self) }
}
