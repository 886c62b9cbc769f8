import Glibc

/// Writes tokens to stdout as they come, straight to the file descriptor: a text model's as
/// the bytes they are, other ids as decimal numbers separated by commas, ended by a newline.
/// Nothing allocates per token.
struct TokenWriter {
    let bytes: Bool
    private var text = [UInt8](repeating: 0, count: 16)
    private var first = true

    init(bytes: Bool) { self.bytes = bytes }

    mutating func write(_ token: Int32) {
        if bytes {
            text[0] = UInt8(truncatingIfNeeded: token)
            send(count: 1)
            return
        }
        // The digits from the last, after a comma unless this is the first id.
        var value = Int(token), end = text.count, start = end
        repeat {
            start -= 1
            text[start] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        } while value > 0
        if !first {
            start -= 1
            text[start] = UInt8(ascii: ",")
        }
        first = false
        send(from: start, count: end - start)
    }

    /// Ends a line of ids.
    mutating func finish() {
        guard !bytes else { return }
        text[0] = UInt8(ascii: "\n")
        send(count: 1)
    }

    private func send(from start: Int = 0, count: Int) {
        text.withUnsafeBytes { raw in
            var done = 0
            while done < count {
                let n = Glibc.write(STDOUT_FILENO, raw.baseAddress! + start + done, count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }  // stdout closed: nothing more to tell
                done += n
            }
        }
    }
}
