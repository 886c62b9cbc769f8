import Foundation
import Host

/// A network between nodes for the projection: a bandwidth per node link and an MPI latency
/// per message (small-message one-way time, software included).
public struct NetworkSpec: Codable, Equatable, Sendable {
    public var name: String
    public var gbps: Double
    public var latencyUs: Double
    public var description: String

    enum CodingKeys: String, CodingKey {
        case name, gbps, latencyUs = "latency_us", description
    }

    public init(name: String, gbps: Double, latencyUs: Double, description: String) {
        self.name = name
        self.gbps = gbps
        self.latencyUs = latencyUs
        self.description = description
    }

    /// The link cost the model uses: β = 8 / (gbps · 10⁹) s/byte, α = latency.
    public var link: CostModel.LinkCost { CostModel.LinkCost(gbps: gbps, latencyUs: latencyUs) }

    /// Typical figures: Open MPI over TCP on Ethernet costs tens of µs per message; RDMA on
    /// InfiniBand about 1–2 µs. Bandwidth is the line rate (the model does not take off
    /// protocol overheads, so it is an upper bound on what a link delivers).
    public static let presets: [NetworkSpec] = [
        NetworkSpec(name: "eth10", gbps: 10, latencyUs: 30, description: "10 Gb/s Ethernet, TCP"),
        NetworkSpec(name: "eth25", gbps: 25, latencyUs: 20, description: "25 Gb/s Ethernet, TCP"),
        NetworkSpec(name: "eth100", gbps: 100, latencyUs: 12, description: "100 Gb/s Ethernet, TCP"),
        NetworkSpec(name: "roce100", gbps: 100, latencyUs: 3, description: "100 Gb/s Ethernet, RoCE"),
        NetworkSpec(name: "ib100", gbps: 100, latencyUs: 1.5, description: "100 Gb/s InfiniBand EDR"),
        NetworkSpec(name: "ib200", gbps: 200, latencyUs: 1.2, description: "200 Gb/s InfiniBand HDR"),
    ]

    public static let defaultNames = ["eth25", "ib100"]

    /// A preset name, or NAME:GBPS:LATENCY_US (e.g. "lab:40:8").
    public static func parse(_ text: String) throws -> NetworkSpec {
        if let preset = presets.first(where: { $0.name == text.lowercased() }) { return preset }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, let gbps = Double(parts[1]), gbps > 0, let latency = Double(parts[2]),
              latency >= 0 else {
            throw ReportError.request("\(text): expected a preset (\(presets.map(\.name).joined(separator: ", "))) or NAME:GBPS:LATENCY_US, e.g. lab:40:8")
        }
        return NetworkSpec(name: parts[0], gbps: gbps, latencyUs: latency,
                           description: "\(NumberText.trimmed(String(format: "%.3g", gbps))) Gb/s, \(NumberText.trimmed(String(format: "%.3g", latency))) µs")
    }
}
