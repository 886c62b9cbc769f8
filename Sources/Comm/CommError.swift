/// A failed collective or MPI call, as a value: which operation, and MPI's own words for why
/// (from `MPI_Error_string`).
public struct CommError: Error, Equatable, CustomStringConvertible {
    /// e.g. "MPI_Sendrecv (ring reduce-scatter, step 3)".
    public let operation: String
    /// The MPI error code, or 0 when the failure is Lockstep's own.
    public let code: Int32
    /// What went wrong.
    public let reason: String

    public init(operation: String, code: Int32 = 0, reason: String) {
        self.operation = operation
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(operation) failed: \(reason)" }
}
