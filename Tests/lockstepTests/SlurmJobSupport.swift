import Foundation

/// Reading and waiting on SLURM jobs, for the tests on the local and the emulated clusters.
/// `sacct` needs slurmdbd, which neither cluster runs, so jobs are read with `scontrol show job`.
enum SlurmJob {
    /// The states a job passes through before it ends.
    static let activeStates: Set<String> = ["PENDING", "CONFIGURING", "RUNNING", "COMPLETING"]

    /// `scontrol show job` output as its Key=Value fields.
    static func fields(_ scontrolOutput: String) -> [String: String] {
        var fields: [String: String] = [:]
        for token in scontrolOutput.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let equals = token.firstIndex(of: "=") else { continue }
            fields[String(token[..<equals])] = String(token[token.index(after: equals)...])
        }
        return fields
    }

    /// Polls `read` (a job's fields) until the job leaves the active states or `timeout`
    /// seconds pass; returns the last fields and whether the job had ended.
    static func wait(timeout: Double, _ read: () -> [String: String]) -> (fields: [String: String], ended: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var fields: [String: String] = [:]
        while Date() < deadline {
            fields = read()
            if let state = fields["JobState"], !activeStates.contains(state) { return (fields, true) }
            usleep(250_000)
        }
        return (fields, false)
    }
}
