/// What the checkpoints of a run cost, for the run summary.
public struct CheckpointStats: Codable, Equatable, Sendable {
    public var written: Int
    /// Mean time to snapshot the state into the writer's buffer: what training waits for.
    public var snapshotMsMean: Double
    /// Mean time for the background writer to encode, checksum, write and fsync one.
    public var writeMsMean: Double
    public var bytes: Int
    public var resumedFrom: String?
    public var loadMs: Double?

    public init(written: Int, snapshotMsMean: Double, writeMsMean: Double, bytes: Int, resumedFrom: String? = nil,
                loadMs: Double? = nil) {
        self.written = written
        self.snapshotMsMean = snapshotMsMean
        self.writeMsMean = writeMsMean
        self.bytes = bytes
        self.resumedFrom = resumedFrom
        self.loadMs = loadMs
    }

    enum CodingKeys: String, CodingKey {
        case written, snapshotMsMean = "snapshot_ms_mean", writeMsMean = "write_ms_mean", bytes
        case resumedFrom = "resumed_from", loadMs = "load_ms"
    }
}
