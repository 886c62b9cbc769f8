import Comm
import Crypto
import Foundation
import Host
import RunConfig

/// Start-up agreement: every rank must run the same binary and the same config, which
/// together fix the model. Ranks gather a hash of each; where one differs from rank 0's, the
/// run stops before any collective that depends on them, naming the ranks (ranks started
/// with different configs would otherwise hang in an all-reduce of different sizes, or in
/// mapping shared memory that only some of them map).
enum StartupCheck {
    static func verify(settings: TrainingConfig, comm: Communicator) throws {
        guard comm.size > 1 else { return }
        let parts = [("binary", BuildIdentity.current), ("config", settings.config.canonicalText)]
        var mine = parts.map { UInt64(SHA256.hex($0.1).prefix(16), radix: 16)! }
        var all = [UInt64](repeating: 0, count: parts.count * comm.size)
        try mine.withUnsafeBytes { m in
            try all.withUnsafeMutableBytes { a in try comm.allGather(m, into: a) }
        }
        mine.removeAll()
        var problems: [String] = []
        for (k, part) in parts.enumerated() {
            let ofRank = { (r: Int) in all[r * parts.count + k] }
            let differing = (1..<comm.size).filter { ofRank($0) != ofRank(0) }
            guard let first = differing.first else { continue }
            let hex = { (v: UInt64) in String(String(v, radix: 16).prefix(8)) }
            var problem = "rank\(differing.count > 1 ? "s" : "") \(differing.map(String.init).joined(separator: ", ")) \(differing.count > 1 ? "have" : "has") a different \(part.0) than rank 0 (\(differing.map { hex(ofRank($0)) }.joined(separator: ", ")) vs \(hex(ofRank(0))))"
            if part.0 == "config" {
                // Name the keys: the first differing rank shows its config to rank 0.
                let theirs = try comm.broadcast(text: settings.config.canonicalText, root: first)
                problem += ": " + configDifferences(settings.config.canonicalText, theirs, rank: first)
            }
            problems.append(problem)
        }
        if !problems.isEmpty {
            throw TrainingError("ranks disagree at start-up: \(problems.joined(separator: "; ")); start every rank with the same binary and config",
                                exitCode: ExitCode.mismatch)
        }
    }
}

/// "train.batch = 32 on rank 0, 16 on rank 1; …" for the lines of two canonical configs that differ.
func configDifferences(_ mine: String, _ theirs: String, rank: Int) -> String {
    func entries(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.range(of: " = ") else { continue }
            result[String(line[..<eq.lowerBound])] = String(line[eq.upperBound...])
        }
        return result
    }
    let a = entries(mine), b = entries(theirs)
    let keys = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    let shown = keys.prefix(3).map { "\($0) = \(a[$0] ?? "(unset)") on rank 0, \(b[$0] ?? "(unset)") on rank \(rank)" }
    return shown.joined(separator: "; ") + (keys.count > 3 ? "; and \(keys.count - 3) more" : "")
}
