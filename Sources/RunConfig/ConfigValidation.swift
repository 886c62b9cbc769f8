/// The checks of one key's value: its type, its range (`ConfigKey.rule` and `maximum`, floats
/// finite), and for model.layers each layer table. Messages start with where the value was set.
enum ConfigValidation {
    /// `entry` checked against `key`, an integer widened to a float where a float is expected.
    static func validate(_ entry: GivenValue, for key: ConfigKey) throws(ConfigError) -> ConfigValue {
        let value = entry.value
        let at = "\(entry.origin): \(key.path)"
        let typed: ConfigValue
        switch (key.kind, value) {
        case (.int, .int), (.bool, .bool), (.ints, .ints), (.double, .double):
            typed = value
        case let (.double, .int(v)):
            typed = .double(Double(v))
        case let (.string(choices), .string(v)):
            guard choices.isEmpty || choices.contains(v) else {
                throw ConfigError("\(at) must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(v)\"")
            }
            typed = value
        case let (.layers, .tables(tables)):
            var layers: [[String: ConfigValue]] = []
            for (i, table) in tables.enumerated() {
                let origin = entry.layers.indices.contains(i) ? entry.layers[i] : LayerOrigin(table: entry.origin, keys: [:])
                layers.append(try validateLayer(table, index: i, origin: origin))
            }
            typed = .tables(layers)
        case let (.layers, .int(count)):
            // A GPT's number of blocks.
            guard count >= 1 else { throw ConfigError("\(at) must be positive, got \(count)") }
            guard count <= ConfigLimits.blocks else { throw ConfigError("\(at) must be at most \(ConfigLimits.blocks), got \(count)") }
            typed = value
        default:
            throw ConfigError("\(at) must be \(expected(key.kind)), got \(value.typeName) (\(value))")
        }
        if case let .double(v) = typed, !v.isFinite {
            throw ConfigError("\(at) must be a finite number, got \(value)")
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
            if let limit = key.maximum, number > limit {
                throw ConfigError("\(at) must be at most \(text(limit)), got \(value)")
            }
        }
        if case let .ints(list) = typed {
            if let bad = list.first(where: { $0 <= 0 }) {
                throw ConfigError("\(at) must list positive integers, got \(bad)")
            }
            if let big = list.first(where: { $0 > ConfigLimits.dimension }) {
                throw ConfigError("\(at) must list dimensions of at most \(ConfigLimits.dimension), got \(big)")
            }
            var product = 1
            for n in list {
                let (next, overflow) = product.multipliedReportingOverflow(by: n)
                guard !overflow, next <= ConfigLimits.sampleValues else {
                    throw ConfigError("\(at) \(value) is more than \(ConfigLimits.sampleValues) values per sample")
                }
                product = next
            }
        }
        return typed
    }

    /// What a key of `kind` takes, for "must be …".
    static func expected(_ kind: ConfigKey.Kind) -> String {
        switch kind {
        case .int: "an integer"
        case .double: "a number"
        case .bool: "true or false"
        case .string: "a string"
        case .ints: "an array of integers"
        case .layers: "an array of layer tables (or, for a GPT, a number of blocks)"
        }
    }

    /// A limit as a message gives it: 4096, not 4096.0.
    private static func text(_ limit: Double) -> String {
        limit.rounded() == limit && abs(limit) < 1e18 ? String(Int(limit)) : "\(limit)"
    }

    /// One entry of model.layers, checked: its type, its keys and their values, defaults filled in.
    private static func validateLayer(_ table: [String: ConfigValue], index: Int,
                                      origin: LayerOrigin) throws(ConfigError) -> [String: ConfigValue] {
        let layer = "model.layers[\(index + 1)]"
        guard case let .string(type)? = table["type"] else {
            throw ConfigError("\(origin.of("type")): \(layer): every layer needs type = one of \(LayerTable.types.joined(separator: ", "))")
        }
        guard LayerTable.types.contains(type) else {
            let hint = ConfigSchema.suggestion(for: type, among: LayerTable.types).map { " (did you mean \($0)?)" } ?? ""
            throw ConfigError("\(origin.of("type")): \(layer): unknown layer type \"\(type)\"\(hint)")
        }
        let known = LayerTable.keys(for: type)
        var result: [String: ConfigValue] = ["type": .string(type)]
        for key in table.keys.sorted() where key != "type" {
            let value = table[key]!
            let at = origin.of(key)
            if key == "name" {
                guard case .string = value else { throw ConfigError("\(at): \(layer).name must be a string, got \(value)") }
                result[key] = value
                continue
            }
            guard known.contains(where: { $0.key == key }) else {
                let hint = ConfigSchema.suggestion(for: key, among: known.map(\.key) + ["name"]).map { " (did you mean \($0)?)" } ?? ""
                throw ConfigError("\(at): \(layer): unknown key \(key) for a \(type) layer\(hint)")
            }
            guard case let .int(n) = value else { throw ConfigError("\(at): \(layer).\(key) must be an integer, got \(value)") }
            let limit = LayerTable.maximum(of: key)
            guard n <= limit else { throw ConfigError("\(at): \(layer).\(key) must be at most \(limit), got \(n)") }
            result[key] = value
        }
        for (key, defaultValue) in known where result[key] == nil {
            guard let defaultValue else { throw ConfigError("\(origin.table): \(layer): a \(type) layer needs \(key)") }
            result[key] = .int(defaultValue)
        }
        return result
    }
}
