/// A table while the document is read: mutable, shared by reference between the tree and the
/// parser's current section, and remembering how it came to exist, which decides what may later
/// define or extend it (see `TableBuilder+Rules.swift`). `freeze()` turns it into a `TOMLTable`.
final class TableBuilder {
    /// How a table came to exist.
    enum Origin {
        /// The document itself.
        case root
        /// A `[table]` header, or an element of an array of tables `[[table]]`.
        case header
        /// Named on the way to a longer header (`a` in `[a.b]`); a header may define it later.
        case implicit
        /// Named on the way to a value by a dotted key (`a` in `a.b = 1`).
        case dotted
        /// The braces of an inline table; closed once its `}` is read.
        case inline
    }

    /// What a key holds while the document is read.
    enum Content {
        /// A finished value: a scalar, a static array or an inline table. Never extended.
        case value(TOMLNode)
        /// A table that headers or dotted keys may still fill.
        case table(TableBuilder)
        /// An array of tables, which each `[[key]]` header extends.
        case tableArray(TableArrayBuilder)
    }

    /// One key of the table.
    struct Slot {
        let key: String
        var keyPosition: TOMLPosition
        let content: Content
    }

    /// How the table came to exist; an implicit table becomes `.header` or `.dotted` when defined.
    var origin: Origin
    /// Where it was defined (see `TOMLNode.position`); moves to the header that defines an implicit table.
    var position: TOMLPosition
    /// The keys from the root, for messages.
    let path: [String]
    /// How many tables and arrays enclose it; the root is at 0.
    let level: Int
    /// The keys in the order first defined.
    private var slots: [Slot] = []
    /// Each key's index in `slots`.
    private var indices: [String: Int] = [:]

    /// An empty table.
    init(origin: Origin, position: TOMLPosition, path: [String], level: Int) {
        self.origin = origin
        self.position = position
        self.path = path
        self.level = level
    }

    /// The slot for `key`, if the key is defined.
    func slot(_ key: String) -> Slot? {
        indices[key].map { slots[$0] }
    }

    /// Defines `key`, which must be new.
    func insert(_ key: String, at keyPosition: TOMLPosition, _ content: Content) {
        indices[key] = slots.count
        slots.append(Slot(key: key, keyPosition: keyPosition, content: content))
    }

    /// Moves a defined key's position to where it is defined at last (an implicit table's header).
    func moveKey(_ key: String, to keyPosition: TOMLPosition) {
        if let i = indices[key] { slots[i].keyPosition = keyPosition }
    }

    /// The finished table. Recursion is bounded by the reader's depth limit.
    func freeze() -> TOMLTable {
        TOMLTable(entries: slots.map { slot in
            let node: TOMLNode
            switch slot.content {
            case let .value(value):
                node = value
            case let .table(table):
                node = TOMLNode(.table(table.freeze()), at: table.position)
            case let .tableArray(array):
                let elements = array.elements.map { TOMLNode(.table($0.freeze()), at: $0.position) }
                node = TOMLNode(.array(elements), at: array.position)
            }
            return TOMLTable.Entry(key: slot.key, keyPosition: slot.keyPosition, node: node)
        })
    }
}

/// An array of tables while the document is read: one element per `[[key]]` header so far.
final class TableArrayBuilder {
    /// Where the first `[[key]]` header is.
    let position: TOMLPosition
    /// The elements; never empty, since the first header creates the array with its element.
    private(set) var elements: [TableBuilder]

    /// An array whose first element is `first`.
    init(position: TOMLPosition, first: TableBuilder) {
        self.position = position
        self.elements = [first]
    }

    /// The element that the latest header opened, which headers below it (`[key.sub]`) extend.
    var last: TableBuilder { elements[elements.count - 1] }

    /// Adds the element a further `[[key]]` header opens.
    func append(_ element: TableBuilder) {
        elements.append(element)
    }
}
