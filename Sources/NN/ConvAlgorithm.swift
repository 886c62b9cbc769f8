/// How a Conv2d convolves (config key tensor.conv).
public enum ConvAlgorithm: String, Sendable, CaseIterable {
    /// oneDNN's direct convolution where oneDNN runs and creates the layer's primitives, else im2col.
    case auto
    /// Unfold the input (im2col) and multiply by OpenBLAS's GEMM: the reference.
    case im2col
    /// oneDNN's direct convolution; a layer whose primitives oneDNN cannot create uses im2col.
    case onednn
}
