import NN
import Tensor

/// The tensor section: which library runs which kernel.
public struct TensorSettings: Sendable, Equatable {
    /// tensor.gemm: "auto" times OpenBLAS and oneDNN on each of the model's GEMM shapes at
    /// start-up and keeps the faster (`GEMMPlan`); "openblas" or "onednn" runs every shape on one.
    public enum GEMMChoice: String, Sendable, CaseIterable {
        case auto, openblas, onednn

        /// The one provider it names; nil for "auto".
        public var provider: GEMMProvider? { GEMMProvider(rawValue: rawValue) }
    }

    public var gemm: GEMMChoice
    /// tensor.conv: how Conv2d convolves (`ConvAlgorithm`).
    public var conv: ConvAlgorithm

    init(_ c: Config) {
        gemm = GEMMChoice(rawValue: c.string("tensor.gemm"))!
        conv = ConvAlgorithm(rawValue: c.string("tensor.conv"))!
    }
}
