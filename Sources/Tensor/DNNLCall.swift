import CDNNL

/// A oneDNN primitive with its arguments: memory objects made once, whose data handles may be
/// pointed elsewhere between runs. Running it allocates nothing. Owns the primitive.
final class DNNLCall {
    private let primitive: dnnl_primitive_t
    private let arguments: UnsafeMutableBufferPointer<dnnl_exec_arg_t>

    init(_ primitive: dnnl_primitive_t, _ arguments: [(Int32, dnnl_memory_t)]) {
        self.primitive = primitive
        self.arguments = .allocate(capacity: arguments.count)
        for (i, a) in arguments.enumerated() { self.arguments[i] = dnnl_exec_arg_t(arg: a.0, memory: a.1) }
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        arguments.deallocate()
    }

    /// Runs the primitive on the stream and waits for it. Returns false when oneDNN fails.
    func run(_ runtime: OneDNN.Runtime) -> Bool {
        guard dnnl_primitive_execute(primitive, runtime.stream, Int32(arguments.count), arguments.baseAddress) == dnnl_success
        else { return false }
        return dnnl_stream_wait(runtime.stream) == dnnl_success
    }
}
