import Glibc
import Synchronization

/// The owner of one contiguous, zero-initialised, 64-byte aligned block of Floats, or a
/// view of a block that something else owns (such as memory shared by the ranks of a node).
///
/// Several `Tensor` views may share one storage: a model's parameters are one storage with a
/// view per parameter. Storage is shared between threads only under an ownership protocol
/// kept by its user (for gradients: the reducer hands a bucket to the communication thread
/// and takes it back when the all-reduce completes), hence `@unchecked Sendable`.
public final class TensorStorage: @unchecked Sendable {
    /// The first element.
    public let base: UnsafeMutablePointer<Float>
    /// The number of Floats.
    public let count: Int
    /// The owner of borrowed memory, kept alive as long as this storage; nil when this
    /// storage allocated the block itself.
    private let lender: AnyObject?

    /// Blocks of at least this many bytes are placed on 2 MiB boundaries and offered
    /// transparent huge pages, as NumPy does for its large arrays: fewer TLB misses for the
    /// GEMMs and optimizer passes over them, and for MPI's single-copy transfers out of them.
    static let hugePageThreshold = 4 << 20
    static let hugePage = 2 << 20

    /// What happens when the system has no memory for a block of `bytes`: by default one line
    /// that says how much was asked for, and exit 1; `lockstep` ends the whole job instead.
    public static func onOutOfMemory(_ handler: @escaping @Sendable (_ bytes: Int) -> Never) {
        outOfMemoryHandler.withLock { $0 = handler }
    }

    private static let outOfMemoryHandler = Mutex<@Sendable (Int) -> Never> { bytes in
        let line = Array("lockstep: error: out of memory: cannot allocate \(bytes >> 20) MB for a tensor\n".utf8)
        _ = write(2, line, line.count)
        exit(1)
    }

    private static func outOfMemory(_ bytes: Int) -> Never {
        let handler = outOfMemoryHandler.withLock { $0 }
        handler(bytes)
    }

    /// Allocates `count` zeroed Floats; calls `outOfMemory` if the system has none to give.
    public init(count: Int) {
        precondition(count >= 0, "TensorStorage: negative count \(count)")
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        if overflow { Self.outOfMemory(.max) }
        let huge = bytes >= Self.hugePageThreshold
        var block: UnsafeMutableRawPointer?
        guard posix_memalign(&block, huge ? Self.hugePage : 64, bytes) == 0, let raw = block else { Self.outOfMemory(bytes) }
        // Advice only, before the first touch; a kernel without THP ignores it.
        if huge { _ = madvise(raw, bytes / Self.hugePage * Self.hugePage, MADV_HUGEPAGE) }
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
        self.count = count
        lender = nil
    }

    /// Views `buffer`, which `lender` owns and keeps valid while it is alive.
    public init(borrowing buffer: UnsafeMutableBufferPointer<Float>, from lender: AnyObject) {
        precondition(buffer.baseAddress.map { Int(bitPattern: $0) % 64 == 0 } ?? false,
                     "TensorStorage: borrowed memory at \(String(describing: buffer.baseAddress)) is not 64-byte aligned")
        base = buffer.baseAddress!
        count = buffer.count
        self.lender = lender
    }

    deinit { if lender == nil { free(base) } }
}
