/// Values written without quotes or brackets: booleans, integers and floats, told apart by their
/// text. Dates and times are recognised only to be rejected with a clear message.
///
/// The parser collects a token of the characters these values use (`BareValue.isTokenScalar`)
/// and hands it here whole, so `1.5x` is one invalid number rather than `1.5` and a stray `x`.
enum BareValue {
    /// Whether `scalar` can be part of a bare value: ASCII letters, digits and `_ + - . :`.
    static func isTokenScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "+", "-", ".", ":": true
        default: false
        }
    }

    /// The value `token` (ASCII, non-empty) stands for, which starts at `position`.
    static func parse(_ token: [UInt8], at position: TOMLPosition) throws(TOMLError) -> TOMLValue {
        let text = String(decoding: token, as: UTF8.self)
        switch text {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan": return .float(.nan)
        case "-nan": return .float(-.nan)
        default: break
        }
        let isSigned = token.first == plus || token.first == minus
        let unsigned = isSigned ? token.dropFirst() : token[...]
        guard let first = unsigned.first, isDecimalDigit(first) else {
            if let first = token.first, isLetter(first) { throw .bareWord(text, at: position) }
            throw .invalidNumber(text, at: position)
        }
        if !isSigned && isDateOrTime(token) { throw .dateTime(text, at: position) }
        if first == zero, unsigned.count > 1, let radix = radixes[unsigned[unsigned.startIndex + 1]] {
            if isSigned { throw .invalidNumber(text, reason: "only decimal numbers can have a sign", at: position) }
            return .integer(try integer(unsigned.dropFirst(2), radix: radix, negative: false, text: text, at: position))
        }
        if unsigned.contains(where: { $0 == dot || $0 == lowerE || $0 == upperE }) {
            return .float(try float(token, text: text, at: position))
        }
        return .integer(try integer(unsigned, radix: 10, negative: token.first == minus, text: text, at: position))
    }

    /// The integer with `digits` in `radix`, checked to fit in 64 bits with its sign.
    private static func integer(_ digits: ArraySlice<UInt8>, radix: UInt64, negative: Bool,
                                text: String, at position: TOMLPosition) throws(TOMLError) -> Int64 {
        let values = try digitValues(digits, radix: radix, text: text, at: position)
        if radix == 10 { try checkNoLeadingZero(values, text: text, at: position) }
        var magnitude: UInt64 = 0
        for digit in values {
            let (shifted, overflow1) = magnitude.multipliedReportingOverflow(by: radix)
            let (sum, overflow2) = shifted.addingReportingOverflow(digit)
            if overflow1 || overflow2 { throw .integerOverflow(text, at: position) }
            magnitude = sum
        }
        let limit = UInt64(Int64.max) + (negative ? 1 : 0)
        guard magnitude <= limit else { throw .integerOverflow(text, at: position) }
        if negative {
            return magnitude == limit ? Int64.min : -Int64(magnitude)
        }
        return Int64(magnitude)
    }

    /// The float `token` writes: a decimal integer part, then a fraction, an exponent or both.
    private static func float(_ token: [UInt8], text: String, at position: TOMLPosition) throws(TOMLError) -> Double {
        let signed = token.first == plus || token.first == minus
        let body = signed ? token.dropFirst() : token[...]
        let exponentMark = body.firstIndex { $0 == lowerE || $0 == upperE }
        let mantissa = body[..<(exponentMark ?? body.endIndex)]
        let dotIndex = mantissa.firstIndex(of: dot)
        let integerPart = mantissa[..<(dotIndex ?? mantissa.endIndex)]
        try checkNoLeadingZero(try digitValues(integerPart, radix: 10, text: text, at: position), text: text, at: position)
        if let dotIndex {
            _ = try digitValues(mantissa[(dotIndex + 1)...], radix: 10, text: text, at: position)
        }
        if let exponentMark {
            var exponent = body[(exponentMark + 1)...]
            if exponent.first == plus || exponent.first == minus { exponent = exponent.dropFirst() }
            _ = try digitValues(exponent, radix: 10, text: text, at: position)
        }
        let plain = String(decoding: token.filter { $0 != underscore }, as: UTF8.self)
        guard let value = Double(plain) else { throw .invalidNumber(text, at: position) }
        guard value.isFinite else { throw .floatOverflow(text, at: position) }
        return value
    }

    /// The digit values of `digits` in `radix`, where each underscore must stand between two
    /// digits. Fails on an empty run or any other character.
    private static func digitValues(_ digits: ArraySlice<UInt8>, radix: UInt64,
                                    text: String, at position: TOMLPosition) throws(TOMLError) -> [UInt64] {
        var values: [UInt64] = []
        var previousWasDigit = false
        for byte in digits {
            if byte == underscore {
                guard previousWasDigit else { throw misplacedUnderscore(text, at: position) }
                previousWasDigit = false
                continue
            }
            guard let value = hexDigitValue(Unicode.Scalar(byte)).map(UInt64.init), value < radix else {
                throw .invalidNumber(text, at: position)
            }
            values.append(value)
            previousWasDigit = true
        }
        guard !values.isEmpty else { throw .invalidNumber(text, at: position) }
        guard previousWasDigit else { throw misplacedUnderscore(text, at: position) }
        return values
    }

    /// Fails if the digit values of a decimal integer part, more than one, start with 0.
    private static func checkNoLeadingZero(_ digits: [UInt64], text: String,
                                           at position: TOMLPosition) throws(TOMLError) {
        if digits.first == 0 && digits.count > 1 {
            throw .invalidNumber(text, reason: "leading zeros are not allowed", at: position)
        }
    }

    private static func misplacedUnderscore(_ text: String, at position: TOMLPosition) -> TOMLError {
        .invalidNumber(text, reason: "an underscore must stand between two digits", at: position)
    }

    /// Whether `token` starts like a date (`1979-`) or a time (`07:`).
    private static func isDateOrTime(_ token: [UInt8]) -> Bool {
        func digits(_ count: Int) -> Bool { token.count > count && token.prefix(count).allSatisfy(isDecimalDigit) }
        return (digits(4) && token[4] == minus) || (digits(2) && token[2] == colon)
    }

    private static func isDecimalDigit(_ byte: UInt8) -> Bool { (zero...zero + 9).contains(byte) }
    private static func isLetter(_ byte: UInt8) -> Bool { (65...90).contains(byte) || (97...122).contains(byte) }

    private static let plus = UInt8(ascii: "+"), minus = UInt8(ascii: "-"), dot = UInt8(ascii: ".")
    private static let zero = UInt8(ascii: "0"), underscore = UInt8(ascii: "_"), colon = UInt8(ascii: ":")
    private static let lowerE = UInt8(ascii: "e"), upperE = UInt8(ascii: "E")
    /// The radix each prefix letter after `0` names: `0x`, `0o`, `0b`.
    private static let radixes: [UInt8: UInt64] = [UInt8(ascii: "x"): 16, UInt8(ascii: "o"): 8, UInt8(ascii: "b"): 2]
}
