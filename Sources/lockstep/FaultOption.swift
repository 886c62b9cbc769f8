import Foundation
import RunConfig
import Train

/// `--fault KIND:rank=R:step=S[:…]`, the test-only faults of `FaultInjection`.
enum FaultOption {
    static let environmentGate = "LOCKSTEP_FAULT_INJECTION"

    /// Parses `spec`. - Throws: `ConfigError` for a malformed spec or a missing gate.
    static func parse(_ spec: String) throws(ConfigError) -> FaultInjection {
        guard ProcessInfo.processInfo.environment[environmentGate] == "1" else {
            throw ConfigError("--fault is a test-only option; it needs \(environmentGate)=1")
        }
        let parts = spec.split(separator: ":").map(String.init)
        var fields: [String: String] = [:]
        for part in parts.dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ConfigError("--fault \(spec): expected key=value, got \(part)") }
            fields[kv[0]] = kv[1]
        }
        guard let rank = fields["rank"].flatMap(Int.init), rank >= 0, let step = fields["step"].flatMap(Int.init), step >= 1 else {
            throw ConfigError("--fault \(spec): needs rank=R and step=S (S ≥ 1)")
        }
        let kind: FaultInjection.Kind
        switch parts.first {
        case "stall":
            guard let at = FaultInjection.StallPoint(rawValue: fields["at"] ?? "step") else {
                throw ConfigError("--fault \(spec): at must be step, update or startup")
            }
            kind = .stall(seconds: fields["seconds"].flatMap(Double.init) ?? 3600, at: at)
        case "nan": kind = .nan
        case "slow":
            guard let us = Int(fields["us"] ?? "200"), us >= 1 else { throw ConfigError("--fault \(spec): us must be a positive integer") }
            kind = .slow(microsecondsPerSample: us)
        default: throw ConfigError("--fault \(spec): unknown fault \(parts.first ?? ""), expected stall, nan or slow")
        }
        return FaultInjection(kind: kind, rank: rank, step: step)
    }
}
