import Foundation

/// A value read from a TOML config or a `--set` override.
public enum ConfigValue: Equatable, Sendable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case ints([Int])
    /// model.layers: one table per layer.
    case tables([[String: ConfigValue]])

    /// The value as TOML writes it; sorted keys, so that equal configs print (and hash) equally.
    public var description: String {
        switch self {
        case let .int(v): return String(v)
        case let .double(v): return v.rounded() == v && abs(v) < 1e15 ? "\(Int(v)).0" : "\(v)"
        case let .bool(v): return v ? "true" : "false"
        case let .string(v): return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case let .ints(v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
        case let .tables(v):
            let rows = v.map { table in
                "{ " + table.keys.sorted().map { "\($0) = \(table[$0]!)" }.joined(separator: ", ") + " }"
            }
            return "[" + rows.joined(separator: ", ") + "]"
        }
    }

    /// The TOML type's name, for messages.
    var typeName: String {
        switch self {
        case .int: "an integer"
        case .double: "a float"
        case .bool: "a boolean"
        case .string: "a string"
        case .ints: "an array of integers"
        case .tables: "an array of tables"
        }
    }
}
