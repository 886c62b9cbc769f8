/// A key anywhere in a document, with its full key path: what a walk over the document yields.
public struct TOMLItem: Sendable, Equatable {
    /// The keys from the root down to this one: `["model", "layers"]`.
    public let path: [String]
    /// Where the last key is written.
    public let keyPosition: TOMLPosition
    /// The value and where it starts.
    public let node: TOMLNode

    /// The path as TOML writes it: `model.layers`, with quotes where a key needs them
    /// (`servers."eu west".port`).
    public var dottedKey: String { dottedKeyText(path) }
}

extension TOMLTable {
    /// Every key of this table and of the tables under it, depth-first in source order: a table
    /// comes before its keys. Arrays, arrays of tables included, are items of their own and are not
    /// entered; their elements are read through `TOMLNode.array`.
    ///
    /// For `[train]` / `batch = 128` this yields `train` (a table, at its header) then
    /// `train.batch` (an integer, with the position of `batch` and of `128`).
    public func walk() -> [TOMLItem] {
        var items: [TOMLItem] = []
        collect(prefix: [], into: &items)
        return items
    }

    /// Appends this table's items under `prefix`. The reader bounds nesting at
    /// `TOMLDocument.maximumDepth`, so the recursion is shallow.
    private func collect(prefix: [String], into items: inout [TOMLItem]) {
        for entry in entries {
            let path = prefix + [entry.key]
            items.append(TOMLItem(path: path, keyPosition: entry.keyPosition, node: entry.node))
            if let inner = entry.node.table {
                inner.collect(prefix: path, into: &items)
            }
        }
    }
}
