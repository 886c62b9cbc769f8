/// A TOML table: keys in the order the source first defines them, each with its position.
public struct TOMLTable: Sendable, Equatable {
    /// One key of a table, where the key is written, and its value.
    public struct Entry: Sendable, Equatable {
        /// The key, unquoted and unescaped: `"a b"` is `a b`.
        public let key: String
        /// Where the key is written. For a table defined by a header this is the key's last
        /// segment inside the header (the `layers` of `[model.layers]`).
        public let keyPosition: TOMLPosition
        /// The value, with the position where it starts.
        public let node: TOMLNode
    }

    /// The entries in source order.
    public let entries: [Entry]
    /// Each key's index in `entries`.
    private let indices: [String: Int]

    /// A table of `entries`, which must have distinct keys; the reader guarantees this.
    init(entries: [Entry]) {
        self.entries = entries
        var indices: [String: Int] = [:]
        for (i, entry) in entries.enumerated() { indices[entry.key] = i }
        self.indices = indices
    }

    /// The keys in source order.
    public var keys: [String] { entries.map(\.key) }

    /// The entry for `key`, with the key's position, or nil.
    public func entry(_ key: String) -> Entry? {
        indices[key].map { entries[$0] }
    }

    /// The value for `key`, or nil.
    public subscript(key: String) -> TOMLNode? {
        entry(key)?.node
    }

    /// The entry at a key path through nested tables (`["train", "batch"]`), or nil when a key is
    /// missing or an intermediate value is not a table. An empty path has no entry.
    public func entry(at path: [String]) -> Entry? {
        guard let last = path.last else { return nil }
        var table = self
        for key in path.dropLast() {
            guard let inner = table[key]?.table else { return nil }
            table = inner
        }
        return table.entry(last)
    }

    /// The value at a key path through nested tables, or nil (see `entry(at:)`).
    public subscript(path path: [String]) -> TOMLNode? {
        entry(at: path)?.node
    }
}
