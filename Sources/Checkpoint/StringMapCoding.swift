/// Codable for a flat struct kept as a `[String: String]`, as safetensors' `__metadata__`
/// holds it: every field is one key, its value written as text and read back with its type.
/// A missing field or a value that does not read as its type is an error naming the key,
/// never a silent default.
enum StringMap {
    /// `value`'s fields as strings, under their coding keys.
    static func encode<T: Encodable>(_ value: T) -> [String: String] {
        let encoder = Encoder()
        // Only the flat fields below are supported, which cannot fail to encode.
        try? value.encode(to: encoder)
        return encoder.strings.values
    }

    /// A `T` read from `strings`.
    /// - Throws: `StringMapError` naming the key that is missing or malformed.
    static func decode<T: Decodable>(_ type: T.Type, from strings: [String: String]) throws(StringMapError) -> T {
        do {
            return try T(from: Decoder(strings: strings))
        } catch let error as StringMapError {
            throw error
        } catch {
            throw StringMapError(key: "?", problem: "\(error)")
        }
    }

    private final class Box { var values: [String: String] = [:] }

    private struct Encoder: Swift.Encoder {
        let strings = Box()
        var codingPath: [CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Keyed<Key>(strings: strings))
        }
        func unkeyedContainer() -> UnkeyedEncodingContainer { preconditionFailure("StringMap: flat structs only") }
        func singleValueContainer() -> SingleValueEncodingContainer { preconditionFailure("StringMap: flat structs only") }

        struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
            let strings: Box
            var codingPath: [CodingKey] { [] }
            mutating func encodeNil(forKey key: Key) {}
            mutating func encode(_ value: String, forKey key: Key) { strings.values[key.stringValue] = value }
            mutating func encode(_ value: Bool, forKey key: Key) { strings.values[key.stringValue] = String(value) }
            mutating func encode(_ value: Int, forKey key: Key) { strings.values[key.stringValue] = String(value) }
            mutating func encode(_ value: UInt64, forKey key: Key) { strings.values[key.stringValue] = String(value) }
            mutating func encode(_ value: Double, forKey key: Key) { strings.values[key.stringValue] = String(value) }
            mutating func encode(_ value: Float, forKey key: Key) { strings.values[key.stringValue] = String(value) }
            mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
                throw StringMapError(key: key.stringValue, problem: "has a type (\(T.self)) a string map cannot hold")
            }
            mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
                preconditionFailure("StringMap: flat structs only")
            }
            mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
                preconditionFailure("StringMap: flat structs only")
            }
            mutating func superEncoder() -> Swift.Encoder { preconditionFailure("StringMap: flat structs only") }
            mutating func superEncoder(forKey key: Key) -> Swift.Encoder { preconditionFailure("StringMap: flat structs only") }
        }
    }

    private struct Decoder: Swift.Decoder {
        let strings: [String: String]
        var codingPath: [CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Keyed<Key>(strings: strings))
        }
        func unkeyedContainer() throws -> UnkeyedDecodingContainer { throw StringMapError(key: "?", problem: "is not a flat struct") }
        func singleValueContainer() throws -> SingleValueDecodingContainer {
            throw StringMapError(key: "?", problem: "is not a flat struct")
        }

        struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
            let strings: [String: String]
            var codingPath: [CodingKey] { [] }
            var allKeys: [Key] { strings.keys.compactMap { Key(stringValue: $0) } }
            func contains(_ key: Key) -> Bool { strings[key.stringValue] != nil }
            func decodeNil(forKey key: Key) throws -> Bool { strings[key.stringValue] == nil }

            private func text(_ key: Key) throws -> String {
                guard let value = strings[key.stringValue] else { throw StringMapError(key: key.stringValue, problem: "is missing") }
                return value
            }

            private func read<T>(_ key: Key, as what: String, _ parse: (String) -> T?) throws -> T {
                let value = try text(key)
                guard let parsed = parse(value) else {
                    throw StringMapError(key: key.stringValue, problem: "is \"\(value.prefix(40))\", not \(what)")
                }
                return parsed
            }

            func decode(_ type: String.Type, forKey key: Key) throws -> String { try text(key) }
            func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try read(key, as: "true or false", Bool.init) }
            func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try read(key, as: "an integer") { Int($0) } }
            func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
                try read(key, as: "a non-negative integer") { UInt64($0) }
            }
            func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try read(key, as: "a number") { Double($0) } }
            func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try read(key, as: "a number") { Float($0) } }
            func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
                throw StringMapError(key: key.stringValue, problem: "has a type (\(T.self)) a string map cannot hold")
            }
            func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
                throw StringMapError(key: key.stringValue, problem: "is not a flat field")
            }
            func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
                throw StringMapError(key: key.stringValue, problem: "is not a flat field")
            }
            func superDecoder() throws -> Swift.Decoder { throw StringMapError(key: "super", problem: "is not a flat field") }
            func superDecoder(forKey key: Key) throws -> Swift.Decoder {
                throw StringMapError(key: key.stringValue, problem: "is not a flat field")
            }
        }
    }
}

/// A field of a string map that is missing or does not read as its type.
struct StringMapError: Error, Equatable, CustomStringConvertible {
    let key: String
    let problem: String
    var description: String { "\(key) \(problem)" }
}
