// How keys are written back in messages and walks: `model.layers`, `servers."eu west"`.

/// Whether `scalar` may appear in a bare key: ASCII letters, digits, `_` and `-`.
func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
    default: false
    }
}

/// `path` joined with dots, each key bare when TOML allows it and quoted otherwise, so that the
/// text reads back as the same key path.
func dottedKeyText(_ path: some Sequence<String>) -> String {
    path.map(keyText).joined(separator: ".")
}

/// One key as TOML would write it: bare if it can be, else a basic string with escapes.
private func keyText(_ key: String) -> String {
    if !key.isEmpty && key.unicodeScalars.allSatisfy(isBareKeyScalar) { return key }
    var text = "\""
    for scalar in key.unicodeScalars {
        switch scalar {
        case "\"": text += "\\\""
        case "\\": text += "\\\\"
        case "\t": text += "\\t"
        case "\n": text += "\\n"
        case "\u{0}"..."\u{1F}", "\u{7F}": text += "\\u" + hex(scalar.value, digits: 4)
        default: text.unicodeScalars.append(scalar)
        }
    }
    return text + "\""
}

/// `value` in upper-case hexadecimal, padded with zeros to at least `digits` digits.
func hex(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}
