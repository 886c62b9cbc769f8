import Foundation

/// A validated config: every known key with its value (given or default), the file it came
/// from, and where each given key was set. `TrainingConfig` reads it into typed settings.
///
/// Every error is a `ConfigError` whose text starts with where the problem is (`ConfigOrigin`):
/// `c.toml:12: train.batch must be positive, got 0`, `--set train.batch=0: train.batch must be
/// positive, got 0`; TOML syntax errors give the column too: `c.toml:3:2: expected a key in the
/// table header, found '.'`.
public struct Config: Equatable, Sendable {
    /// The config file, for messages.
    public let source: String
    /// Every key of `ConfigSchema`, set.
    public private(set) var values: [String: ConfigValue]
    /// Where each given key was set; keys left at their defaults have no entry.
    public private(set) var origins: [String: ConfigOrigin]
    /// For model.layers given as tables: where each layer and each of its keys was set.
    private(set) var layerOrigins: [LayerOrigin]

    /// The largest config file read: configs are a few kilobytes.
    public static let maximumFileBytes = 1 << 20

    /// Reads and validates a TOML file, then applies `--set key=value` overrides.
    /// - Throws: `ConfigError` naming the file and line, or the `--set`, and the key.
    public static func load(path: String, overrides: [String] = []) throws(ConfigError) -> Config {
        try parse(bytes: readFile(path), source: path, overrides: overrides)
    }

    /// Parses TOML `text`; `source` names it in messages.
    public static func parse(_ text: String, source: String, overrides: [String] = []) throws(ConfigError) -> Config {
        try parse(bytes: Array(text.utf8), source: source, overrides: overrides)
    }

    /// Parses the bytes of a TOML file (UTF-8); `source` names it in messages.
    public static func parse(bytes: [UInt8], source: String, overrides: [String] = []) throws(ConfigError) -> Config {
        var given = try ConfigReader.read(bytes, source: source)
        for (index, text) in overrides.enumerated() {
            let (path, entry) = try ConfigReader.readOverride(text, index: index)
            given[path] = entry
        }
        var values: [String: ConfigValue] = [:]
        var origins: [String: ConfigOrigin] = [:]
        var layerOrigins: [LayerOrigin] = []
        for key in ConfigSchema.keys {
            if let entry = given[key.path] {
                values[key.path] = try ConfigValidation.validate(entry, for: key)
                origins[key.path] = entry.origin
                if case .layers = key.kind { layerOrigins = entry.layers }
            } else if let value = key.defaultValue {
                values[key.path] = value
            } else {
                throw ConfigError("\(source): \(key.path) is required")
            }
        }
        return Config(source: source, values: values, origins: origins, layerOrigins: layerOrigins)
    }

    /// The bytes of the config file at `path`: a regular file of at most `maximumFileBytes`.
    private static func readFile(_ path: String) throws(ConfigError) -> [UInt8] {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ConfigError(errno == ENOENT ? "\(path): no such file" : "\(path): cannot read it: \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw ConfigError("\(path): cannot read it: not a regular file") }
        guard status.st_size <= maximumFileBytes else {
            throw ConfigError("\(path): \(status.st_size) bytes is too large for a config (at most \(maximumFileBytes))")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= maximumFileBytes else {
            throw ConfigError("\(path): cannot read it")
        }
        return [UInt8](data)
    }

    /// Configs are equal when they hold the same values from the same file, wherever the values were set.
    public static func == (a: Config, b: Config) -> Bool {
        a.source == b.source && a.values == b.values
    }

    /// The config as TOML, keys sorted: equal configs give equal text.
    public var canonicalText: String {
        values.keys.sorted().map { "\($0) = \(values[$0]!)" }.joined(separator: "\n") + "\n"
    }

    /// Where a message about `keys` points: the last `--set` among them, else the first of them
    /// set in the file (its line), else the file.
    public func origin(of keys: String...) -> ConfigOrigin { origin(of: keys) }

    /// Where a message about `keys` points (see `origin(of:)`).
    public func origin(of keys: [String]) -> ConfigOrigin {
        let given = keys.compactMap { origins[$0] }
        let overrides = given.filter { $0.overrideIndex != nil }
        return overrides.max { $0.overrideIndex! < $1.overrideIndex! } ?? given.first ?? .file(source, line: nil)
    }

    /// Where layer `index` (from 0) of model.layers was set, or model.layers itself.
    func layerOrigin(_ index: Int) -> ConfigOrigin {
        layerOrigins.indices.contains(index) ? layerOrigins[index].table : origin(of: "model.layers")
    }

    /// A copy with `key` set to `value` (already validated by the caller's construction).
    public func setting(_ key: String, _ value: ConfigValue) -> Config {
        var copy = self
        copy.values[key] = value
        return copy
    }

    public subscript(_ key: String) -> ConfigValue {
        guard let v = values[key] else { preconditionFailure("Config: \(key) is not in the schema") }
        return v
    }

    func int(_ key: String) -> Int { if case let .int(v) = self[key] { return v }; preconditionFailure("\(key) is not an int") }
    func double(_ key: String) -> Double {
        switch self[key] {
        case let .double(v): return v
        case let .int(v): return Double(v)
        default: preconditionFailure("\(key) is not a number")
        }
    }
    func bool(_ key: String) -> Bool { if case let .bool(v) = self[key] { return v }; preconditionFailure("\(key) is not a bool") }
    func string(_ key: String) -> String { if case let .string(v) = self[key] { return v }; preconditionFailure("\(key) is not a string") }
    func ints(_ key: String) -> [Int] { if case let .ints(v) = self[key] { return v }; preconditionFailure("\(key) is not ints") }
    func tables(_ key: String) -> [[String: ConfigValue]] {
        if case let .tables(v) = self[key] { return v }
        preconditionFailure("\(key) is not tables")
    }
}
