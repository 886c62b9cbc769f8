/// Why a dataset could not be read. The text names the file and what is wrong with it.
public struct DataError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
