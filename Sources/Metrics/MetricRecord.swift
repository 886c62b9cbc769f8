/// One record of a run's metrics: a logged training step or an evaluation. The JSON Lines
/// file has one per line; the TensorBoard files hold the same values as scalars.
///
/// | kind | values (JSON key) | TensorBoard tag |
/// |---|---|---|
/// | train | loss, lr, grad_norm, samples_per_s, tokens_per_s (language models) | train/loss, train/lr, … |
/// | eval | val_loss, val_accuracy, val_bits_per_token (language models) | val/loss, val/accuracy, … |
///
/// Every record has `step` (optimizer steps taken), `epoch` (1-based), `wall_s` (seconds since
/// the run's first step) and `time` (Unix seconds, TensorBoard's wall time).
public struct MetricRecord: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case train, eval
    }

    public var kind: Kind
    public var step: Int
    public var epoch: Int
    public var wallSeconds: Double
    public var time: Double
    /// The record's values in the order they are written.
    public var values: [Value]

    public struct Value: Equatable, Sendable {
        public var key: String
        public var value: Double

        public init(_ key: String, _ value: Double) {
            self.key = key
            self.value = value
        }
    }

    public init(kind: Kind, step: Int, epoch: Int, wallSeconds: Double, time: Double, values: [Value]) {
        self.kind = kind
        self.step = step
        self.epoch = epoch
        self.wallSeconds = wallSeconds
        self.time = time
        self.values = values
    }

    public subscript(_ key: String) -> Double? { values.first { $0.key == key }?.value }

    /// The TensorBoard tag of a value: `train/<key>`, or for an evaluation `val/<key without val_>`.
    public static func tag(kind: Kind, key: String) -> String {
        switch kind {
        case .train: "train/" + key
        case .eval: "val/" + (key.hasPrefix("val_") ? String(key.dropFirst(4)) : key)
        }
    }

    /// The record as one line of JSON (no newline); a non-finite value is `null`.
    public var jsonLine: String {
        var fields = ["\"kind\":\"\(kind.rawValue)\"", "\"step\":\(step)", "\"epoch\":\(epoch)"]
        for v in values { fields.append("\"\(v.key)\":\(Self.number(v.value))") }
        fields.append("\"wall_s\":\(Self.number(wallSeconds))")
        fields.append("\"time\":\(Self.number(time))")
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func number(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }
}
