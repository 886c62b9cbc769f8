import CDNNL

/// oneDNN, the library behind Lockstep's matmul and direct-convolution providers: one CPU
/// engine and one stream per process, created on first use, and OpenMP (its CPU runtime)
/// asked for one thread, because Lockstep runs one rank per core.
public enum OneDNN {
    /// The library's version, e.g. "2.6.3".
    public static var version: String {
        guard let v = dnnl_version()?.pointee else { return "?" }
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// The CPU engine and its in-order stream, or nil when oneDNN cannot create them.
    struct Runtime: @unchecked Sendable {
        let engine: dnnl_engine_t
        let stream: dnnl_stream_t
    }

    /// Created once; primitives are executed on `stream` and finish before `execute` returns.
    static let runtime: Runtime? = {
        _ = lockstep_dnnl_pin_one_thread()
        var engine: dnnl_engine_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine else { return nil }
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream else { return nil }
        return Runtime(engine: engine, stream: stream)
    }()

    /// Whether oneDNN runs on this machine (its engine could be created).
    public static var isAvailable: Bool { runtime != nil }
}
