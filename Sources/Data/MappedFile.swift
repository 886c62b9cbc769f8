import Glibc

/// A whole file mapped read-only into memory (`mmap` with `PROT_READ`, `MAP_SHARED`), unmapped
/// when the last reference goes. The pages belong to the kernel's page cache, shared by every
/// process that maps the file: ranks on one node hold one copy of a corpus between them, and
/// pages that are never touched are never read from disk. Sizes and offsets are `Int`, so
/// files over 4 GB map whole.
///
/// The mapping is read-only and never changes after `init`, hence `@unchecked Sendable`. A file
/// rewritten while it is mapped shows its new bytes, and one cut short makes reads past its new
/// end fault: corpora must not change under a running job.
final class MappedFile: @unchecked Sendable {
    let path: String
    /// The file's bytes; never empty.
    let bytes: UnsafeRawBufferPointer

    /// Maps `path`, a regular file.
    /// - Throws: `DataError` if it cannot be opened or mapped, or is empty.
    init(path: String) throws(DataError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw DataError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        let size = Int(status.st_size)
        guard size > 0 else { throw DataError("\(path): empty file") }
        guard let base = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw DataError("\(path): cannot map: \(String(cString: strerror(errno)))")
        }
        self.path = path
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
}
