/// oneDNN's activation layouts that Lockstep converts to and from itself: plain NCHW (`block`
/// 1) and the channel-blocked nChw8c / nChw16c, in which image n's channels come in blocks of
/// `block`, each block's planes interleaved: element (n, c, h, w) lies at
/// `((n·⌈C/block⌉ + c/block)·H·W + h·W + w)·block + c % block`, the channels past C zero.
///
/// Lockstep keeps activations channel-major, (C, B, H, W) for a batch of B. The conversions
/// take a run of `count` images starting at `first`, so that one oneDNN primitive made for
/// `count` images serves that part of any batch.
public struct BlockedLayout: Equatable, Sendable {
    public let channels: Int
    /// H·W.
    public let plane: Int
    /// 1, 8 or 16.
    public let block: Int

    /// Elements per image, padding channels included.
    public var imageSize: Int { (channels + block - 1) / block * block * plane }

    /// Writes images `first ..< first + count` of x (C, batch, H, W) into `dst`, in this layout.
    public func pack(_ x: UnsafePointer<Float>, batch: Int, first: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
        let blocks = (channels + block - 1) / block
        for n in 0..<count {
            for cb in 0..<blocks {
                let out = dst + (n * blocks + cb) * plane * block
                for c in 0..<block {
                    let channel = cb * block + c
                    guard channel < channels else {
                        for p in 0..<plane { out[p * block + c] = 0 }
                        continue
                    }
                    let source = x + (channel * batch + first + n) * plane
                    if block == 1 {
                        out.update(from: source, count: plane)
                    } else {
                        for p in 0..<plane { out[p * block + c] = source[p] }
                    }
                }
            }
        }
    }

    /// The inverse of `pack`: writes `count` images of `src`, in this layout, into images
    /// `first ..< first + count` of y (C, batch, H, W).
    public func unpack(_ src: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>, batch: Int, first: Int) {
        let blocks = (channels + block - 1) / block
        for n in 0..<count {
            for channel in 0..<channels {
                let cb = channel / block, c = channel % block
                let source = src + (n * blocks + cb) * plane * block + c
                let out = y + (channel * batch + first + n) * plane
                if block == 1 {
                    out.update(from: source, count: plane)
                } else {
                    for p in 0..<plane { out[p] = source[p * block] }
                }
            }
        }
    }
}
