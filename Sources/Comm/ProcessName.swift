import Glibc

/// The host's name, for messages and summaries.
enum ProcessName {
    static var host: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(nulTerminated: name)
    }
}

extension String {
    /// The text of a NUL-terminated C character array, as C APIs fill them.
    public init(nulTerminated chars: [CChar]) {
        self = String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
