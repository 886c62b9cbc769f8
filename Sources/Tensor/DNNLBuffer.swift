import CDNNL

/// One argument of a oneDNN primitive as Lockstep's buffers meet it: the layout the caller's
/// memory has (`user`) and the layout the primitive chose (`native`). When the two are the
/// same the caller's pointer is passed through; otherwise the value lives in an owned,
/// 64-byte aligned buffer of the native layout and a reorder primitive converts on the way in
/// or out.
final class DNNLBuffer {
    /// The memory object the primitive reads or writes: the caller's pointer, or the owned buffer.
    let native: dnnl_memory_t
    private let user: dnnl_memory_t?
    private let reorder: DNNLCall?
    private let owned: UnsafeMutableRawPointer?
    private let toNative: Bool

    /// - Parameters:
    ///   - user: the caller's layout; nil for a buffer the caller never sees (an intermediate).
    ///   - native: the primitive's layout.
    ///   - toNative: whether the value flows from the caller into the primitive (an input).
    /// - Returns: nil when oneDNN cannot create the memory objects or the reorder.
    init?(user userMD: dnnl_memory_desc_t?, native nativeMD: dnnl_memory_desc_t, toNative: Bool, runtime: OneDNN.Runtime) {
        self.toNative = toNative
        var nativeMD = nativeMD
        if var userMD, dnnl_memory_desc_equal(&userMD, &nativeMD) != 0 {
            var memory: dnnl_memory_t?
            guard dnnl_memory_create(&memory, &userMD, runtime.engine, lockstep_dnnl_memory_none()) == dnnl_success,
                  let memory else { return nil }
            native = memory
            user = nil
            reorder = nil
            owned = nil
            return
        }
        let bytes = max(dnnl_memory_desc_get_size(&nativeMD), 64)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var nativeMemory: dnnl_memory_t?
        guard dnnl_memory_create(&nativeMemory, &nativeMD, runtime.engine, buffer) == dnnl_success, let nativeMemory else {
            buffer.deallocate()
            return nil
        }
        native = nativeMemory
        owned = buffer
        guard var userMD else {
            user = nil
            reorder = nil
            return
        }
        var userMemory: dnnl_memory_t?
        var reorderPD: dnnl_primitive_desc_t?
        var primitive: dnnl_primitive_t?
        let created = dnnl_memory_create(&userMemory, &userMD, runtime.engine, lockstep_dnnl_memory_none()) == dnnl_success
            && (toNative ? dnnl_reorder_primitive_desc_create(&reorderPD, &userMD, runtime.engine, &nativeMD, runtime.engine, nil)
                         : dnnl_reorder_primitive_desc_create(&reorderPD, &nativeMD, runtime.engine, &userMD, runtime.engine, nil))
                == dnnl_success
            && dnnl_primitive_create(&primitive, reorderPD) == dnnl_success
        if let reorderPD { dnnl_primitive_desc_destroy(reorderPD) }
        user = userMemory
        reorder = primitive.flatMap { p in
            userMemory.map { u in DNNLCall(p, toNative ? [(DNNL_ARG_FROM, u), (DNNL_ARG_TO, nativeMemory)]
                                                       : [(DNNL_ARG_FROM, nativeMemory), (DNNL_ARG_TO, u)]) }
        }
        guard created, reorder != nil else { return nil }
    }

    /// The owned buffer, for a buffer made without a user layout.
    var elements: UnsafeMutablePointer<Float> { owned!.assumingMemoryBound(to: Float.self) }

    deinit {
        dnnl_memory_destroy(native)
        if let user { dnnl_memory_destroy(user) }
        owned?.deallocate()
    }

    /// Points the buffer at the caller's memory `pointer`, and for an input converts it into the
    /// native layout. Returns false when oneDNN fails.
    func bind(_ pointer: UnsafeMutablePointer<Float>, runtime: OneDNN.Runtime) -> Bool {
        guard let user, let reorder else { return dnnl_memory_set_data_handle(native, pointer) == dnnl_success }
        guard dnnl_memory_set_data_handle(user, pointer) == dnnl_success else { return false }
        return toNative ? reorder.run(runtime) : true
    }

    /// For an output: converts the native value into the caller's memory bound last.
    func publish(runtime: OneDNN.Runtime) -> Bool {
        guard let reorder, !toNative else { return true }
        return reorder.run(runtime)
    }
}
