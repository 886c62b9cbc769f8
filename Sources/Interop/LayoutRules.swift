/// The layout conversions of an export, each a pure permutation of a tensor's values (none
/// changes a value). Lockstep's own layouts are PyTorch's: Linear weights [out, in], Conv2d
/// weights [out, in, kh, kw], images (N, C, H, W), and a flatten of (C, H, W) in (c, h, w)
/// order. Keras and JAX (in Flax's convention) are channels-last:
///
/// | Lockstep (torch, numpy) | Keras, JAX |
/// |---|---|
/// | Linear `weight` [out, in] | Dense `kernel` [in, out] = weightᵀ |
/// | Conv2d `weight` [out, in, kh, kw] | Conv2D `kernel` [kh, kw, in, out] (HWIO) |
/// | images (N, C, H, W) | images (N, H, W, C) |
/// | the first Linear after flattening (C, H, W), input index c·H·W + h·W + w | its kernel's row (h·W + w)·C + c, since a channels-last flatten runs in (h, w, c) order |
/// | biases [n] | biases [n] |
/// | GPT: LayerNorm `weight`, Embedding `weight` | `scale`, `embedding` |
public enum LayoutRules {
    /// [rows, cols] → [cols, rows].
    public static func transpose(_ v: [Float], rows: Int, cols: Int) -> [Float] {
        precondition(v.count == rows * cols, "transpose: \(v.count) values for \(rows)×\(cols)")
        var out = [Float](repeating: 0, count: v.count)
        for r in 0..<rows {
            for c in 0..<cols { out[c * rows + r] = v[r * cols + c] }
        }
        return out
    }

    /// A Conv2d weight [out, in, k, k] → [k, k, in, out].
    public static func convToHWIO(_ v: [Float], out: Int, in inChannels: Int, kernel k: Int) -> [Float] {
        precondition(v.count == out * inChannels * k * k, "convToHWIO: \(v.count) values")
        var dst = [Float](repeating: 0, count: v.count)
        for o in 0..<out {
            for c in 0..<inChannels {
                for i in 0..<k {
                    for j in 0..<k { dst[((i * k + j) * inChannels + c) * out + o] = v[((o * inChannels + c) * k + i) * k + j] }
                }
            }
        }
        return dst
    }

    /// A Linear weight [out, C·H·W] that reads a (c, h, w)-flattened input → a Dense kernel
    /// [H·W·C, out] that reads an (h, w, c)-flattened one.
    public static func channelsLastKernel(_ v: [Float], out: Int, channels: Int, height: Int, width: Int) -> [Float] {
        let features = channels * height * width
        precondition(v.count == out * features, "channelsLastKernel: \(v.count) values")
        var dst = [Float](repeating: 0, count: v.count)
        for o in 0..<out {
            for c in 0..<channels {
                for h in 0..<height {
                    for w in 0..<width { dst[((h * width + w) * channels + c) * out + o] = v[o * features + (c * height + h) * width + w] }
                }
            }
        }
        return dst
    }
}
