import Foundation

/// Faults that tests inject on purpose: `--fault stall:rank=1:step=5[:seconds=600][:at=update]`
/// stops a rank's main thread at the start of a step, or with `at=update` just before its
/// optimizer updates the parameters; `--fault nan:rank=0:step=3` puts a NaN into
/// that rank's input batch; `--fault slow:rank=1:step=1[:us=200]` makes that rank, from that
/// step on, sleep `us` microseconds per sample it computes, as a slower core would. They exist
/// for tests only: the option is refused unless LOCKSTEP_FAULT_INJECTION=1 is set, so a normal
/// run cannot reach them.
public struct FaultInjection: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case stall(seconds: Double, at: StallPoint)
        case nan
        case slow(microsecondsPerSample: Int)
    }

    /// Where in its step a stalled rank stops.
    public enum StallPoint: String, Sendable, Equatable {
        case step, update
    }

    public let kind: Kind
    public let rank: Int
    /// The 1-based step at whose start the fault strikes.
    public let step: Int

    public static let environmentGate = "LOCKSTEP_FAULT_INJECTION"

    /// Parses `spec`. - Throws: `ConfigError` for a malformed spec or a missing gate.
    public init(_ spec: String) throws(ConfigError) {
        guard ProcessInfo.processInfo.environment[FaultInjection.environmentGate] == "1" else {
            throw ConfigError("--fault is a test-only option; it needs \(FaultInjection.environmentGate)=1")
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
        switch parts.first {
        case "stall":
            guard let at = StallPoint(rawValue: fields["at"] ?? "step") else {
                throw ConfigError("--fault \(spec): at must be step or update")
            }
            kind = .stall(seconds: fields["seconds"].flatMap(Double.init) ?? 3600, at: at)
        case "nan": kind = .nan
        case "slow":
            guard let us = Int(fields["us"] ?? "200"), us >= 1 else { throw ConfigError("--fault \(spec): us must be a positive integer") }
            kind = .slow(microsecondsPerSample: us)
        default: throw ConfigError("--fault \(spec): unknown fault \(parts.first ?? ""), expected stall, nan or slow")
        }
        self.rank = rank
        self.step = step
    }
}
