import Foundation
import TOML

/// A key's value as given, before validation, and where it was set.
struct GivenValue: Sendable {
    var value: ConfigValue
    var origin: ConfigOrigin
    /// For model.layers given as tables: each layer's origin and its keys'.
    var layers: [LayerOrigin] = []
}

/// Turns a TOML document and `--set` overrides into given values with their origins, with
/// Lockstep's TOML reader (`Sources/TOML`), which never traps and keeps every key's line.
enum ConfigReader {
    /// The keys of a TOML config file and where each is set.
    /// - Throws: `ConfigError` for a syntax error (`c.toml:3:2: message`), an unknown key, or a
    ///   value of a TOML type no key takes.
    static func read(_ bytes: [UInt8], source: String) throws(ConfigError) -> [String: GivenValue] {
        let document: TOMLDocument
        switch Result(catching: { () throws(TOMLError) in try TOMLDocument(parsing: bytes) }) {
        case let .success(parsed): document = parsed
        case let .failure(error): throw ConfigError("\(source):\(error.line):\(error.column): \(error.message)")
        }
        var given: [String: GivenValue] = [:]
        try collect(document.root, prefix: [], source: source, into: &given)
        return given
    }

    /// Adds the keys of `table`, whose key path is `prefix`, to `given`. Tables that are not
    /// keys themselves are sections (`[train]`, or the `train` of `train.batch = 1`), entered.
    private static func collect(_ table: TOMLTable, prefix: [String], source: String,
                                into given: inout [String: GivenValue]) throws(ConfigError) {
        for entry in table.entries {
            let segments = prefix + [entry.key]
            let origin = ConfigOrigin.file(source, line: entry.keyPosition.line)
            // A quoted key with a dot ("train.batch" = 1) is not the key train.batch.
            let path = segments.map { $0.contains(".") || $0.isEmpty ? "\"\($0)\"" : $0 }.joined(separator: ".")
            let key = ConfigSchema.byPath[path]
            if key == nil, let inner = entry.node.table {
                if inner.entries.isEmpty && !(prefix.isEmpty && ConfigSchema.sections.contains(path)) {
                    throw unknownKey(path, at: origin)
                }
                try collect(inner, prefix: segments, source: source, into: &given)
                continue
            }
            guard let key else { throw unknownKey(path, at: origin) }
            let (value, layers) = try convert(entry.node, key: key, origin: origin, file: source)
            given[path] = GivenValue(value: value, origin: origin, layers: layers)
        }
    }

    /// `--set key=value`: the value read as TOML with the same reader, or as a bare string (see
    /// `readsAsBareString`).
    /// - Throws: `ConfigError` starting `--set key=value:` for an unknown key or a value that
    ///   starts as TOML but is not (with the column in the value).
    static func readOverride(_ text: String, index: Int) throws(ConfigError) -> (String, GivenValue) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ConfigError("--set \(text): expected key=value")
        }
        let origin = ConfigOrigin.override(text, index: index)
        let path = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        let raw = String(text[text.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        guard let key = ConfigSchema.byPath[path] else { throw unknownKey(path, at: origin) }
        // The schema's keys are bare, so "key = value" is a TOML document with that one key.
        let head = path + " = "
        switch Result(catching: { () throws(TOMLError) in try TOMLDocument(parsing: head + raw) }) {
        case let .success(document):
            guard let node = soleValue(of: document.root, at: path.split(separator: ".").map(String.init)) else {
                throw ConfigError("\(origin): the value must be one TOML value")
            }
            let (value, layers) = try convert(node, key: key, origin: origin, file: nil)
            return (path, GivenValue(value: value, origin: origin, layers: layers))
        case let .failure(error):
            if readsAsBareString(raw, kind: key.kind) {
                return (path, GivenValue(value: .string(raw), origin: origin))
            }
            let place = error.line == 1 ? "column \(max(error.column - head.unicodeScalars.count, 1))"
                                        : "line \(error.line), column \(error.column)"
            throw ConfigError("\(origin): \(error.message) (at \(place) of the value)")
        }
    }

    /// Whether an override value that is not TOML is taken as a string, as a bare word is:
    /// always for a string key unless it starts with a quote (`--set data.path=/data/x`), and
    /// for other keys unless it starts as a number, an array, a table or a string does, so
    /// that `--set train.batch=abc` is "got a string" but `--set model.input=[}]` and
    /// `--set train.steps=1e400` report what is wrong with them.
    private static func readsAsBareString(_ raw: String, kind: ConfigKey.Kind) -> Bool {
        guard let first = raw.unicodeScalars.first else { return true }
        if case .string = kind { return first != "\"" && first != "'" }
        return !"[{\"'+-.0123456789".unicodeScalars.contains(first)
    }

    /// The value at `path` if the document holds nothing else.
    private static func soleValue(of root: TOMLTable, at path: [String]) -> TOMLNode? {
        var table = root
        for (i, segment) in path.enumerated() {
            guard table.entries.count == 1, let entry = table.entry(segment) else { return nil }
            if i == path.count - 1 { return entry.node }
            guard let inner = entry.node.table else { return nil }
            table = inner
        }
        return nil
    }

    /// `node` as the value of `key`; for model.layers as tables, where each layer and its keys
    /// were set. `file` is the config file when the node is from it, so that each layer and key
    /// gets its own line; nil for an override, whose every part is at the `--set`.
    private static func convert(_ node: TOMLNode, key: ConfigKey, origin: ConfigOrigin,
                                file: String?) throws(ConfigError) -> (ConfigValue, [LayerOrigin]) {
        func place(_ position: TOMLPosition) -> ConfigOrigin { file.map { .file($0, line: position.line) } ?? origin }
        guard case let .array(elements) = node.value, !elements.isEmpty, elements.allSatisfy({ $0.table != nil }) else {
            return (try scalar(node, path: key.path, origin: origin, expected: ConfigValidation.expected(key.kind)), [])
        }
        var tables: [[String: ConfigValue]] = []
        var layers: [LayerOrigin] = []
        for (i, element) in elements.enumerated() {
            var entry: [String: ConfigValue] = [:]
            var keys: [String: ConfigOrigin] = [:]
            for field in element.table?.entries ?? [] {
                let at = place(field.keyPosition)
                entry[field.key] = try scalar(field.node, path: "\(key.path)[\(i + 1)].\(field.key)", origin: at,
                                              expected: "an integer or a string")
                keys[field.key] = at
            }
            tables.append(entry)
            layers.append(LayerOrigin(table: place(element.position), keys: keys))
        }
        return (.tables(tables), layers)
    }

    /// A value that is not an array of tables: a scalar, or an array of integers.
    private static func scalar(_ node: TOMLNode, path: String, origin: ConfigOrigin,
                               expected: String) throws(ConfigError) -> ConfigValue {
        switch node.value {
        case let .integer(v): return .int(Int(v))
        case let .float(v): return .double(v)
        case let .boolean(v): return .bool(v)
        case let .string(v): return .string(v)
        case let .array(elements):
            var ints: [Int] = []
            for element in elements {
                guard let v = element.integer else {
                    throw ConfigError("\(origin): \(path) must be an array of integers or of tables")
                }
                ints.append(Int(v))
            }
            return .ints(ints)
        case .table:
            throw ConfigError("\(origin): \(path) must be \(expected), got a table")
        }
    }

    /// An unknown key, with the closest known key when it is a likely typo.
    static func unknownKey(_ path: String, at origin: ConfigOrigin) -> ConfigError {
        let hint = ConfigSchema.suggestion(for: path).map { " (did you mean \($0)?)" } ?? ""
        return ConfigError("\(origin): unknown key \(path)\(hint)")
    }
}
