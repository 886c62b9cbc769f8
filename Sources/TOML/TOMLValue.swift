/// A TOML value: a scalar, an array or a table.
///
/// Array elements are `TOMLNode`s, so each keeps its own position. An array of tables
/// (`[[model.layers]]`) is an `.array` whose elements are `.table`s, the same as an array of
/// inline tables written on one key. Dates and times are not part of the model: the reader
/// rejects them (see `TOMLDocument`).
public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLNode])
    case table(TOMLTable)

    /// The TOML type's name for messages: "string", "integer", "float", "boolean", "array", "table".
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }
}

/// A value and where it starts in the source.
///
/// The position is the value's first character: the opening quote of a string, the `[` of an
/// array, the `{` of an inline table, the sign or first digit of a number. A table defined by a
/// header (`[model]`) or an element of an array of tables (`[[model.layers]]`) is at its header's
/// `[`; a table that only exists because of a longer header (`model` in `[model.layers]`) or of a
/// dotted key (`model` in `model.name = "x"`) is where it was first named; the root is at 1:1.
public struct TOMLNode: Sendable, Equatable {
    /// The value.
    public let value: TOMLValue
    /// Where it starts.
    public let position: TOMLPosition

    /// A node holding `value` at `position`.
    public init(_ value: TOMLValue, at position: TOMLPosition) {
        self.value = value
        self.position = position
    }

    /// The string, if the value is one.
    public var string: String? {
        if case let .string(v) = value { v } else { nil }
    }

    /// The integer, if the value is one.
    public var integer: Int64? {
        if case let .integer(v) = value { v } else { nil }
    }

    /// The float, if the value is one; integers are not converted (see `number`).
    public var float: Double? {
        if case let .float(v) = value { v } else { nil }
    }

    /// The value as a Double if it is a float or an integer, as in `bucket_mb = 1` or `= 0.5`.
    /// An integer beyond 2^53 is rounded to the nearest Double.
    public var number: Double? {
        switch value {
        case let .float(v): v
        case let .integer(v): Double(v)
        default: nil
        }
    }

    /// The boolean, if the value is one.
    public var boolean: Bool? {
        if case let .boolean(v) = value { v } else { nil }
    }

    /// The elements, if the value is an array (an array of tables included).
    public var array: [TOMLNode]? {
        if case let .array(v) = value { v } else { nil }
    }

    /// The table, if the value is one.
    public var table: TOMLTable? {
        if case let .table(v) = value { v } else { nil }
    }
}
