/// Where a config value was set, for messages: a line of the file, or a `--set` override.
///
/// Every config error starts with one: `c.toml:12: train.batch must be positive, got 0`, or
/// `--set train.batch=0: train.batch must be positive, got 0`. A key left at its default, or an
/// error about the file as a whole, names the file alone: `c.toml: model.layers is required`.
public enum ConfigOrigin: Sendable, Equatable, CustomStringConvertible {
    /// A line of the config file; nil: the file as a whole.
    case file(String, line: Int?)
    /// A `--set key=value` (its text, without `--set `), the `index`-th on the command line.
    case override(String, index: Int)

    /// `c.toml:12`, `c.toml`, or `--set train.batch=0`.
    public var description: String {
        switch self {
        case let .file(path, line): line.map { "\(path):\($0)" } ?? path
        case let .override(text, _): "--set \(text)"
        }
    }

    /// The override's place on the command line; nil for the file.
    var overrideIndex: Int? {
        if case let .override(_, index) = self { index } else { nil }
    }
}

/// Where one entry of model.layers was set: the layer (its table's first line, or the `--set`)
/// and each of its keys.
struct LayerOrigin: Sendable, Equatable {
    var table: ConfigOrigin
    var keys: [String: ConfigOrigin]

    /// Where `key` of this layer was set, or the layer itself.
    func of(_ key: String) -> ConfigOrigin { keys[key] ?? table }
}
