import Foundation
import TOMLKit

/// A validated config: every known key with its value (given or default), and the file it
/// came from. `TrainingConfig` reads it into typed settings.
public struct Config: Equatable, Sendable {
    /// Where the values came from, for messages.
    public let source: String
    /// Every key of `ConfigSchema`, set.
    public private(set) var values: [String: ConfigValue]

    /// Reads and validates a TOML file, then applies `--set key=value` overrides.
    /// - Throws: `ConfigError` naming the file and the line or key.
    public static func load(path: String, overrides: [String] = []) throws(ConfigError) -> Config {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read it" : "no such file"
            throw ConfigError("\(path): \(reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError("\(path): not UTF-8 text")
        }
        return try parse(text, source: path, overrides: overrides)
    }

    /// Parses TOML `text`; `source` names it in messages.
    public static func parse(_ text: String, source: String, overrides: [String] = []) throws(ConfigError) -> Config {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError("\(source):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch {
            throw ConfigError("\(source): \(error)")
        }
        var given: [String: ConfigValue] = [:]
        try flatten(table, prefix: "", into: &given, source: source)
        for override in overrides {
            let (key, value) = try parseOverride(override)
            given[key] = value
        }
        var values: [String: ConfigValue] = [:]
        for key in ConfigSchema.keys {
            if let value = given[key.path] {
                values[key.path] = try validate(value, for: key, source: source)
            } else if let value = key.defaultValue {
                values[key.path] = value
            } else {
                throw ConfigError("\(source): \(key.path) is required")
            }
        }
        return Config(source: source, values: values)
    }

    /// The config as TOML, keys sorted: equal configs give equal text.
    public var canonicalText: String {
        values.keys.sorted().map { "\($0) = \(values[$0]!)" }.joined(separator: "\n") + "\n"
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

    // MARK: - Reading TOML

    private static func flatten(_ table: TOMLTable, prefix: String, into given: inout [String: ConfigValue],
                                source: String) throws(ConfigError) {
        for key in table.keys {
            let path = prefix + key
            guard let value = table[key] else { continue }
            if let inner = value.table, !(ConfigSchema.byPath[path].map { if case .layers = $0.kind { true } else { false } } ?? false) {
                try flatten(inner, prefix: path + ".", into: &given, source: source)
                continue
            }
            guard ConfigSchema.byPath[path] != nil else {
                throw unknownKey(path, source: source)
            }
            given[path] = try convert(value, path: path, source: source)
        }
    }

    private static func unknownKey(_ path: String, source: String) -> ConfigError {
        let hint = ConfigSchema.suggestion(for: path).map { " (did you mean \($0)?)" } ?? ""
        return ConfigError("\(source): unknown key \(path)\(hint)")
    }

    private static func convert(_ value: TOMLValueConvertible, path: String, source: String) throws(ConfigError) -> ConfigValue {
        switch value.type {
        case .int: return .int(value.int!)
        case .double: return .double(value.double!)
        case .bool: return .bool(value.bool!)
        case .string: return .string(value.string!)
        case .array:
            let array = value.array!
            if array.isEmpty { return .ints([]) }
            if array.allSatisfy({ $0.type == .int }) { return .ints(array.map { $0.int! }) }
            if array.allSatisfy({ $0.type == .table }) {
                var tables: [[String: ConfigValue]] = []
                for (i, element) in array.enumerated() {
                    var entry: [String: ConfigValue] = [:]
                    for key in element.table!.keys {
                        entry[key] = try convert(element.table![key]!, path: "\(path)[\(i + 1)].\(key)", source: source)
                    }
                    tables.append(entry)
                }
                return .tables(tables)
            }
            throw ConfigError("\(source): \(path) must be an array of integers or of tables")
        default:
            throw ConfigError("\(source): \(path) has an unsupported TOML type (\(value.type))")
        }
    }

    /// `key=value`, the value read as TOML where it parses and as a bare string otherwise.
    private static func parseOverride(_ text: String) throws(ConfigError) -> (String, ConfigValue) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ConfigError("--set \(text): expected key=value")
        }
        let key = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        let raw = String(text[text.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        guard ConfigSchema.byPath[key] != nil else { throw unknownKey(key, source: "--set \(text)") }
        if let table = try? TOMLTable(string: "v = \(raw)"), let value = table["v"] {
            return (key, try convert(value, path: key, source: "--set \(text)"))
        }
        return (key, .string(raw))
    }

    // MARK: - Validation

    private static func validate(_ value: ConfigValue, for key: ConfigKey, source: String) throws(ConfigError) -> ConfigValue {
        let at = "\(source): \(key.path)"
        let typed: ConfigValue
        switch (key.kind, value) {
        case (.int, .int), (.bool, .bool), (.ints, .ints):
            typed = value
        case (.double, .double):
            typed = value
        case let (.double, .int(v)):
            typed = .double(Double(v))
        case let (.string(choices), .string(v)):
            guard choices.isEmpty || choices.contains(v) else {
                throw ConfigError("\(at) must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(v)\"")
            }
            typed = value
        case let (.layers, .tables(tables)):
            typed = .tables(try tables.enumerated().map { (i, t) throws(ConfigError) in
                try validateLayer(t, at: "\(at)[\(i + 1)]")
            })
        case let (.layers, .int(count)):
            // A GPT's number of blocks.
            guard count >= 1 else { throw ConfigError("\(at) must be positive, got \(count)") }
            typed = value
        default:
            throw ConfigError("\(at) must be \(expected(key.kind)), got \(value.typeName) (\(value))")
        }
        let number: Double? = switch typed {
        case let .int(v): Double(v)
        case let .double(v): v
        default: nil
        }
        if let number {
            switch key.rule {
            case .any: break
            case .positive where !(number > 0): throw ConfigError("\(at) must be positive, got \(value)")
            case .nonNegative where !(number >= 0): throw ConfigError("\(at) must not be negative, got \(value)")
            case let .atMost(limit) where !(number >= 0 && number <= limit):
                throw ConfigError("\(at) must be between 0 and \(limit), got \(value)")
            default: break
            }
        }
        if case let .ints(list) = typed, let bad = list.first(where: { $0 <= 0 }) {
            throw ConfigError("\(at) must list positive integers, got \(bad)")
        }
        return typed
    }

    private static func expected(_ kind: ConfigKey.Kind) -> String {
        switch kind {
        case .int: "an integer"
        case .double: "a number"
        case .bool: "true or false"
        case .string: "a string"
        case .ints: "an array of integers"
        case .layers: "an array of layer tables (or, for a GPT, a number of blocks)"
        }
    }

    private static func validateLayer(_ table: [String: ConfigValue], at: String) throws(ConfigError) -> [String: ConfigValue] {
        guard case let .string(type)? = table["type"] else {
            throw ConfigError("\(at): every layer needs type = one of \(LayerTable.types.joined(separator: ", "))")
        }
        guard LayerTable.types.contains(type) else {
            let hint = ConfigSchema.suggestion(for: type, among: LayerTable.types).map { " (did you mean \($0)?)" } ?? ""
            throw ConfigError("\(at): unknown layer type \"\(type)\"\(hint)")
        }
        let known = LayerTable.keys(for: type)
        var result: [String: ConfigValue] = ["type": .string(type)]
        for (key, value) in table where key != "type" {
            if key == "name" {
                guard case .string = value else { throw ConfigError("\(at).name must be a string, got \(value)") }
                result[key] = value
                continue
            }
            guard known.contains(where: { $0.key == key }) else {
                let hint = ConfigSchema.suggestion(for: key, among: known.map(\.key) + ["name"]).map { " (did you mean \($0)?)" } ?? ""
                throw ConfigError("\(at): unknown key \(key) for a \(type) layer\(hint)")
            }
            guard case .int = value else { throw ConfigError("\(at).\(key) must be an integer, got \(value)") }
            result[key] = value
        }
        for (key, defaultValue) in known where result[key] == nil {
            guard let defaultValue else { throw ConfigError("\(at): a \(type) layer needs \(key)") }
            result[key] = .int(defaultValue)
        }
        return result
    }
}
