
extension Communicator {
    /// `text` as `root` has it, on every rank (others pass anything).
    public func broadcast(text: String, root: Int) throws(CommError) -> String {
        var bytes = Array(text.utf8)
        var length = [rank == root ? Double(bytes.count) : 0]
        try length.withUnsafeMutableBufferPointer { (b) throws(CommError) in try allReduce(b, .max) }
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(length[0])) }
        try bytes.withUnsafeMutableBufferPointer { (b) throws(CommError) in try broadcast(UnsafeMutableRawBufferPointer(b), root: root) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
