import CDNNL

/// A 2-D convolution of one batch size through oneDNN's direct-convolution primitives, with
/// its bias and an optional ReLU fused into forward (an eltwise post-op) and an optional max
/// pooling after it through oneDNN's pooling primitive.
///
/// It is made for `images` images, and runs on images `first ..< first + images` of a batch of
/// any size, so that a few of them (one per power of two) serve every batch size.
///
/// The caller's tensors keep Lockstep's layouts: x (in, B, H, W) and y (out, B, OH, OW)
/// channel-major (or the pooled (out, B, PH, PW)), weights [out, in, k, k], bias [out]. oneDNN's
/// fast kernels want blocked layouts (nChw16c activations, blocked weights; a plain strided
/// (C, B, H, W) descriptor gets its reference kernel, hundreds of times slower). Activations
/// are converted by `BlockedLayout` at this convolution's edges (it accepts the layouts
/// oneDNN picks on x86: NCHW, nChw8c, nChw16c), weights and bias by oneDNN's reorders
/// (`DNNLBuffer`). The unpooled output, its gradient and the pooling's workspace stay blocked
/// inside. Forward keeps the blocked x for backward.
///
/// Backward takes dy already masked by the ReLU, with the bias gradient already summed (the
/// caller's `reluBackwardWithRowSums`), and leaves the weight gradient for the caller to add.
public final class DirectConvolution {
    public let geometry: ConvGeometry
    public let outChannels: Int
    public let images: Int
    public let relu: Bool
    public let pool: ConvGeometry?
    /// The implementations oneDNN chose, e.g. "jit:avx512_core".
    public let implementation: String

    private let runtime: OneDNN.Runtime
    private let forwardConv: DNNLCall, backwardData: DNNLCall, backwardWeights: DNNLCall
    private let forwardPool: DNNLCall?, backwardPool: DNNLCall?
    /// The weights in forward's layout and in backward-data's (which may differ).
    private let x: DNNLBuffer, weight: DNNLBuffer, dataWeight: DNNLBuffer, bias: DNNLBuffer, convOut: DNNLBuffer
    private let pooled: DNNLBuffer?, workspace: DNNLBuffer?
    private let dy: DNNLBuffer, dConvOut: DNNLBuffer?, dx: DNNLBuffer, dWeight: DNNLBuffer
    /// How x, y (and dy) and dx are laid out inside.
    private let xLayout: BlockedLayout, yLayout: BlockedLayout, dxLayout: BlockedLayout
    /// The last `backward`'s weight gradient: [out, in, k, k].
    private let weightGradient: Tensor

    /// Creates the primitives for `batch` images, or returns nil when oneDNN is unavailable or
    /// cannot create one of them (the caller then convolves by im2col).
    public init?(geometry g: ConvGeometry, outChannels: Int, images batch: Int, relu: Bool, pool: ConvGeometry?) {
        guard let runtime = OneDNN.runtime, g.isValid, batch > 0 else { return nil }
        self.runtime = runtime
        self.geometry = g
        self.outChannels = outChannels
        self.images = batch
        self.relu = relu
        self.pool = pool
        weightGradient = Tensor(zeros: [outChannels * g.patchSize])

        var pds: [dnnl_primitive_desc_t] = []
        defer { for pd in pds { dnnl_primitive_desc_destroy(pd) } }
        func make(_ desc: UnsafeRawPointer, attr: dnnl_primitive_attr_t? = nil, hint: dnnl_primitive_desc_t? = nil) -> dnnl_primitive_desc_t? {
            var pd: dnnl_primitive_desc_t?
            guard dnnl_primitive_desc_create(&pd, desc, attr, runtime.engine, hint) == dnnl_success, let pd else { return nil }
            pds.append(pd)
            return pd
        }
        func md(_ pd: dnnl_primitive_desc_t, _ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
            dnnl_primitive_desc_query_md(pd, what, index).pointee
        }

        let (oh, ow) = (g.outHeight, g.outWidth)
        // Lockstep's layouts, with dims in oneDNN's (N, C, H, W) order.
        var userW = dnnl_memory_desc_t(), userB = dnnl_memory_desc_t()
        var anyX = dnnl_memory_desc_t(), anyW = dnnl_memory_desc_t(), anyY = dnnl_memory_desc_t()
        let k = g.kernel
        guard lockstep_dnnl_md4_tag(&userW, Int64(outChannels), Int64(g.channels), Int64(k), Int64(k), dnnl_oihw) == dnnl_success,
              lockstep_dnnl_md1(&userB, Int64(outChannels)) == dnnl_success,
              lockstep_dnnl_md4_tag(&anyX, Int64(batch), Int64(g.channels), Int64(g.height), Int64(g.width), dnnl_format_tag_any) == dnnl_success,
              lockstep_dnnl_md4_tag(&anyW, Int64(outChannels), Int64(g.channels), Int64(k), Int64(k), dnnl_format_tag_any) == dnnl_success,
              lockstep_dnnl_md4_tag(&anyY, Int64(batch), Int64(outChannels), Int64(oh), Int64(ow), dnnl_format_tag_any) == dnnl_success
        else { return nil }
        let (fh, fw) = pool.map { ($0.outHeight, $0.outWidth) } ?? (oh, ow)

        // Forward: the convolution with bias, and the ReLU as a post-op.
        var attr: dnnl_primitive_attr_t?
        var postOps: dnnl_post_ops_t?
        guard dnnl_primitive_attr_create(&attr) == dnnl_success, let attr else { return nil }
        defer { dnnl_primitive_attr_destroy(attr) }
        if relu {
            guard dnnl_post_ops_create(&postOps) == dnnl_success, let postOps else { return nil }
            defer { dnnl_post_ops_destroy(postOps) }
            guard dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attr, postOps) == dnnl_success else { return nil }
        }
        var convDesc = dnnl_convolution_desc_t()
        guard lockstep_dnnl_convolution_forward(&convDesc, &anyX, &anyW, &userB, &anyY, Int64(g.stride), Int64(g.padding)) == dnnl_success,
              let forwardPD = make(&convDesc, attr: attr) else { return nil }
        // Backward reads the layouts forward chose: its x, and its output's (where the
        // pooling's gradient lands).
        var forwardX = md(forwardPD, dnnl_query_src_md), forwardY = md(forwardPD, dnnl_query_dst_md)
        var dataDesc = dnnl_convolution_desc_t(), weightsDesc = dnnl_convolution_desc_t()
        guard lockstep_dnnl_convolution_backward_data(&dataDesc, &anyX, &anyW, &forwardY, Int64(g.stride), Int64(g.padding)) == dnnl_success,
              let dataPD = make(&dataDesc, hint: forwardPD),
              lockstep_dnnl_convolution_backward_weights(&weightsDesc, &forwardX, &anyW, nil, &forwardY, Int64(g.stride), Int64(g.padding)) == dnnl_success,
              let weightsPD = make(&weightsDesc, hint: forwardPD) else { return nil }
        var names = [lockstep_dnnl_impl_name(forwardPD), lockstep_dnnl_impl_name(dataPD), lockstep_dnnl_impl_name(weightsPD)]

        // The pooling reads the blocked convolution output.
        var poolPDs: (forward: dnnl_primitive_desc_t, backward: dnnl_primitive_desc_t)?
        if let pool {
            var anyPooled = dnnl_memory_desc_t(), poolDesc = dnnl_pooling_v2_desc_t(), poolBackDesc = dnnl_pooling_v2_desc_t()
            // PyTorch's floor mode: the right/bottom padding that makes the output size come out.
            let padBottom = (pool.outHeight - 1) * pool.stride + pool.kernel - pool.height - pool.padding
            let padRight = (pool.outWidth - 1) * pool.stride + pool.kernel - pool.width - pool.padding
            guard lockstep_dnnl_md4_tag(&anyPooled, Int64(batch), Int64(outChannels), Int64(fh), Int64(fw), dnnl_format_tag_any) == dnnl_success,
                  lockstep_dnnl_max_pooling(&poolDesc, 1, &forwardY, &anyPooled, Int64(pool.kernel), Int64(pool.stride),
                                            Int64(pool.padding), Int64(padBottom), Int64(padRight)) == dnnl_success,
                  let poolForwardPD = make(&poolDesc),
                  lockstep_dnnl_max_pooling(&poolBackDesc, 0, &forwardY, &anyPooled, Int64(pool.kernel), Int64(pool.stride),
                                            Int64(pool.padding), Int64(padBottom), Int64(padRight)) == dnnl_success,
                  let poolBackwardPD = make(&poolBackDesc, hint: poolForwardPD) else { return nil }
            poolPDs = (poolForwardPD, poolBackwardPD)
            names.append(lockstep_dnnl_impl_name(poolForwardPD))
        }
        implementation = Set(names.map { $0.map { String(cString: $0) } ?? "?" }).sorted().joined(separator: ", ")

        // The buffers, from the layouts the primitives chose.
        let finalY = md(poolPDs?.forward ?? forwardPD, dnnl_query_dst_md)
        let dyMD = md(poolPDs?.backward ?? dataPD, dnnl_query_diff_dst_md), dxMD = md(dataPD, dnnl_query_diff_src_md)
        guard let xLayout = BlockedLayout(forwardX, channels: g.channels, height: g.height, width: g.width, images: batch),
              let yLayout = BlockedLayout(finalY, channels: outChannels, height: fh, width: fw, images: batch),
              yLayout == BlockedLayout(dyMD, channels: outChannels, height: fh, width: fw, images: batch),
              let dxLayout = BlockedLayout(dxMD, channels: g.channels, height: g.height, width: g.width, images: batch),
              let x = DNNLBuffer(user: nil, native: forwardX, toNative: true, runtime: runtime),
              let weight = DNNLBuffer(user: userW, native: md(forwardPD, dnnl_query_weights_md), toNative: true, runtime: runtime),
              let bias = DNNLBuffer(user: userB, native: md(forwardPD, dnnl_query_weights_md, 1), toNative: true, runtime: runtime),
              let convOut = DNNLBuffer(user: nil, native: forwardY, toNative: false, runtime: runtime),
              let dy = DNNLBuffer(user: nil, native: dyMD, toNative: true, runtime: runtime),
              let dx = DNNLBuffer(user: nil, native: dxMD, toNative: false, runtime: runtime),
              let dWeight = DNNLBuffer(user: userW, native: md(weightsPD, dnnl_query_diff_weights_md), toNative: false, runtime: runtime)
        else { return nil }
        (self.xLayout, self.yLayout, self.dxLayout) = (xLayout, yLayout, dxLayout)
        self.x = x
        self.weight = weight
        self.bias = bias
        self.convOut = convOut
        self.dy = dy
        self.dx = dx
        self.dWeight = dWeight
        guard let dataWeight = DNNLBuffer(user: userW, native: md(dataPD, dnnl_query_weights_md), toNative: true, runtime: runtime)
        else { return nil }
        self.dataWeight = dataWeight
        if let poolPDs {
            var poolDiffSrc = md(poolPDs.backward, dnnl_query_diff_src_md)
            guard dnnl_memory_desc_equal(&poolDiffSrc, &forwardY) != 0,
                  let pooled = DNNLBuffer(user: nil, native: finalY, toNative: false, runtime: runtime),
                  let workspace = DNNLBuffer(user: nil, native: md(poolPDs.forward, dnnl_query_workspace_md), toNative: false, runtime: runtime),
                  let dConvOut = DNNLBuffer(user: nil, native: forwardY, toNative: false, runtime: runtime) else { return nil }
            self.pooled = pooled
            self.workspace = workspace
            self.dConvOut = dConvOut
        } else {
            pooled = nil
            workspace = nil
            dConvOut = nil
        }

        var created: [dnnl_primitive_t] = []
        for pd in [forwardPD, dataPD, weightsPD] + (poolPDs.map { [$0.forward, $0.backward] } ?? []) {
            var primitive: dnnl_primitive_t?
            guard dnnl_primitive_create(&primitive, pd) == dnnl_success, let primitive else {
                for p in created { dnnl_primitive_destroy(p) }
                return nil
            }
            created.append(primitive)
        }
        // The gradient that reaches both backward convolutions: the pooling's, or dy itself.
        let gradient = dConvOut?.native ?? dy.native
        forwardConv = DNNLCall(created[0], [(DNNL_ARG_SRC, x.native), (DNNL_ARG_WEIGHTS, weight.native), (DNNL_ARG_BIAS, bias.native),
                                            (DNNL_ARG_DST, convOut.native)])
        backwardData = DNNLCall(created[1], [(DNNL_ARG_DIFF_DST, gradient), (DNNL_ARG_WEIGHTS, dataWeight.native),
                                             (DNNL_ARG_DIFF_SRC, dx.native)])
        backwardWeights = DNNLCall(created[2], [(DNNL_ARG_SRC, x.native), (DNNL_ARG_DIFF_DST, gradient),
                                                (DNNL_ARG_DIFF_WEIGHTS, dWeight.native)])
        if let pooled, let workspace, let dConvOut {
            forwardPool = DNNLCall(created[3], [(DNNL_ARG_SRC, convOut.native), (DNNL_ARG_DST, pooled.native),
                                                (DNNL_ARG_WORKSPACE, workspace.native)])
            backwardPool = DNNLCall(created[4], [(DNNL_ARG_DIFF_DST, dy.native), (DNNL_ARG_DIFF_SRC, dConvOut.native),
                                                 (DNNL_ARG_WORKSPACE, workspace.native)])
        } else {
            (forwardPool, backwardPool) = (nil, nil)
        }
    }

    /// y = pool(relu(conv(x, weight) + bias)), as configured, for images `first ..< first + images`
    /// of a batch of `batch`. Returns false when oneDNN fails.
    /// - Parameters: x (in, batch, H, W); weight [out, in, k, k]; bias [out]; y (out, batch, ·, ·).
    public func forward(_ xs: Tensor, batch: Int, first: Int, weight w: Tensor, bias b: Tensor, into y: Tensor) -> Bool {
        precondition(first >= 0 && first + images <= batch && batch * geometry.inputSize <= xs.count
                     && batch * outChannels * yLayout.plane <= y.count,
                     "DirectConvolution.forward: images \(first)..<\(first + images) of \(batch) do not fit x \(xs.count), y \(y.count)")
        xLayout.pack(xs.pointer, batch: batch, first: first, count: images, into: x.elements)
        guard weight.bind(w.pointer, runtime: runtime), bias.bind(b.pointer, runtime: runtime), forwardConv.run(runtime)
        else { return false }
        var out = convOut
        if let forwardPool, let pooled {
            guard forwardPool.run(runtime) else { return false }
            out = pooled
        }
        yLayout.unpack(out.elements, count: images, into: y.pointer, batch: batch, first: first)
        return true
    }

    /// From dy (out, batch, ·, ·), masked by the ReLU: writes the weight gradient of images
    /// `first ..< first + images` into `weightGradient` and, if `dx` is given, overwrites those
    /// images of it with the input gradient (in, batch, H, W). Reads the x of the last
    /// `forward`; `weight` [out, in, k, k] must be the weights it used. Returns false when
    /// oneDNN fails.
    public func backward(_ dys: Tensor, batch: Int, first: Int, weight w: Tensor, inputGradient dxs: Tensor?) -> Bool {
        precondition(first >= 0 && first + images <= batch && batch * outChannels * yLayout.plane <= dys.count
                     && (dxs.map { batch * geometry.inputSize <= $0.count } ?? true),
                     "DirectConvolution.backward: images \(first)..<\(first + images) of \(batch) do not fit dy \(dys.count)")
        yLayout.pack(dys.pointer, batch: batch, first: first, count: images, into: dy.elements)
        if let backwardPool, !backwardPool.run(runtime) { return false }
        guard dWeight.bind(weightGradient.pointer, runtime: runtime), backwardWeights.run(runtime), dWeight.publish(runtime: runtime)
        else { return false }
        if let dxs {
            guard dataWeight.bind(w.pointer, runtime: runtime), backwardData.run(runtime) else { return false }
            dxLayout.unpack(dx.elements, count: images, into: dxs.pointer, batch: batch, first: first)
        }
        return true
    }

    /// Adds the last `backward`'s weight gradient into `weightGrad` [out, in, k, k].
    public func addWeightGradient(into weightGrad: Tensor) {
        precondition(weightGrad.count == weightGradient.count, "addWeightGradient: \(weightGrad.count) for \(weightGradient.count)")
        let s = weightGradient.pointer, d = weightGrad.pointer
        for i in 0..<weightGradient.count { d[i] += s[i] }
    }
}

extension BlockedLayout {
    /// The layout of `md` if it is NCHW, nChw8c or nChw16c for `images` images of
    /// (channels, height, width); nil otherwise.
    init?(_ md: dnnl_memory_desc_t, channels: Int, height: Int, width: Int, images: Int) {
        var md = md
        for (tag, block) in [(dnnl_nchw, 1), (dnnl_nChw8c, 8), (dnnl_nChw16c, 16)] {
            var candidate = dnnl_memory_desc_t()
            guard lockstep_dnnl_md4_tag(&candidate, Int64(images), Int64(channels), Int64(height), Int64(width), tag) == dnnl_success
            else { continue }
            if dnnl_memory_desc_equal(&candidate, &md) != 0 {
                self.init(channels: channels, plane: height * width, block: block)
                return
            }
        }
        return nil
    }
}
