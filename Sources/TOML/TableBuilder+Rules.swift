/// TOML 1.0's rules on defining tables and keys, applied as headers and key/value pairs are read.
///
/// - A key is defined once; a table is defined once, by a header or by dotted keys, not both.
/// - A header may name tables on its way that do not exist yet (`a` in `[a.b]`); a later `[a]`
///   defines such a table. It may also pass through tables made by dotted keys, and through the
///   latest element of an array of tables.
/// - Dotted keys may pass through and add to tables made by dotted keys, or named on the way to a
///   header, but not to a table a header defined, nor to an array of tables.
/// - An inline table and a static array are finished values: nothing adds to them later, and
///   `[[key]]` appends only to an array made by `[[key]]` headers.
extension TableBuilder {
    /// The table a `[keys]` header defines, below `self` (the root).
    func defineTable(_ keys: [KeySegment], header: TOMLPosition) throws(TOMLError) -> TableBuilder {
        let parent = try tableOnHeaderPath(keys.dropLast(), header: header)
        guard let last = keys.last else { return parent }
        guard let slot = parent.slot(last.name) else {
            return try parent.addTable(last, origin: .header, position: header)
        }
        switch slot.content {
        case let .table(table):
            switch table.origin {
            case .implicit:
                table.origin = .header
                table.position = header
                parent.moveKey(last.name, to: last.position)
                return table
            case .dotted:
                throw .tableDefinedByDottedKeys(table.path, line: table.position.line, at: header)
            case .header, .root, .inline:
                throw .tableDefinedTwice(table.path, firstLine: table.position.line, at: header)
            }
        case let .tableArray(array):
            throw .tableArrayAsTable(parent.path + [last.name], line: array.position.line, at: header)
        case .value:
            throw .duplicateKey(parent.path + [last.name], firstLine: slot.keyPosition.line, at: last.position)
        }
    }

    /// The new element a `[[keys]]` header opens, below `self` (the root).
    func appendTableArrayElement(_ keys: [KeySegment], header: TOMLPosition) throws(TOMLError) -> TableBuilder {
        let parent = try tableOnHeaderPath(keys.dropLast(), header: header)
        guard let last = keys.last else { return parent }
        let path = parent.path + [last.name]
        guard let slot = parent.slot(last.name) else {
            try checkDepth(parent.level + 2, at: last.position)
            let element = TableBuilder(origin: .header, position: header, path: path, level: parent.level + 2)
            parent.insert(last.name, at: last.position, .tableArray(TableArrayBuilder(position: header, first: element)))
            return element
        }
        switch slot.content {
        case let .tableArray(array):
            let element = TableBuilder(origin: .header, position: header, path: path, level: parent.level + 2)
            array.append(element)
            return element
        case let .table(table):
            throw .notATableArray(path, what: "a table", line: table.position.line, at: header)
        case let .value(node):
            switch node.value {
            case .array: throw .notATableArray(path, what: "a static array", line: node.position.line, at: header)
            case .table: throw .notATableArray(path, what: "an inline table", line: node.position.line, at: header)
            default: throw .duplicateKey(path, firstLine: slot.keyPosition.line, at: last.position)
            }
        }
    }

    /// The table that a key/value pair with dotted key `keys`, read in this table's section, puts
    /// its last key in; the tables on the way are created or checked. Fails if the last key is
    /// already defined there.
    func tableForKeyValue(_ keys: [KeySegment]) throws(TOMLError) -> TableBuilder {
        var table = self
        for key in keys.dropLast() {
            switch table.slot(key.name)?.content {
            case nil:
                table = try table.addTable(key, origin: .dotted, position: key.position)
            case let .table(inner):
                switch inner.origin {
                case .dotted, .root, .inline:
                    break
                case .implicit:
                    inner.origin = .dotted
                case .header:
                    throw .dottedKeyIntoDefinedTable(inner.path, what: "the table", line: inner.position.line, at: key.position)
                }
                table = inner
            case let .tableArray(array):
                throw .dottedKeyIntoDefinedTable(table.path + [key.name], what: "the array of tables",
                                                 line: array.position.line, at: key.position)
            case let .value(node):
                throw Self.cannotEnter(table.path + [key.name], node: node, at: key.position)
            }
        }
        if let last = keys.last, let existing = table.slot(last.name) {
            throw .duplicateKey(table.path + [last.name], firstLine: existing.keyPosition.line, at: last.position)
        }
        return table
    }

    /// The table that a header's leading keys lead to, creating the missing ones as implicit.
    private func tableOnHeaderPath(_ keys: ArraySlice<KeySegment>, header: TOMLPosition) throws(TOMLError) -> TableBuilder {
        var table = self
        for key in keys {
            switch table.slot(key.name)?.content {
            case nil:
                table = try table.addTable(key, origin: .implicit, position: header)
            case let .table(inner):
                table = inner
            case let .tableArray(array):
                table = array.last
            case let .value(node):
                throw Self.cannotEnter(table.path + [key.name], node: node, at: key.position)
            }
        }
        return table
    }

    /// A new empty table under `key`.
    private func addTable(_ key: KeySegment, origin: Origin, position: TOMLPosition) throws(TOMLError) -> TableBuilder {
        try checkDepth(level + 1, at: key.position)
        let table = TableBuilder(origin: origin, position: position, path: path + [key.name], level: level + 1)
        insert(key.name, at: key.position, .table(table))
        return table
    }

    /// Why a key path cannot go through the finished value `node` at `path`.
    private static func cannotEnter(_ path: [String], node: TOMLNode, at position: TOMLPosition) -> TOMLError {
        if case .table = node.value {
            return .inlineTableExtended(path, line: node.position.line, at: position)
        }
        return .notATable(path, typeName: node.value.typeName, line: node.position.line, at: position)
    }
}

/// Fails if a table or array at `level` would nest deeper than `TOMLDocument.maximumDepth`.
func checkDepth(_ level: Int, at position: TOMLPosition) throws(TOMLError) {
    if level > TOMLDocument.maximumDepth { throw .tooDeep(at: position) }
}
