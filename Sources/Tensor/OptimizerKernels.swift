import Foundation

/// Fused optimizer updates over flat parameter buffers: each reads and writes every stream
/// once, since at the size of the models here they are bound by memory bandwidth. The math
/// follows PyTorch 1.13's `torch.optim.SGD` and `torch.optim.AdamW` step for step.
/// `gradScale` multiplies each gradient on the way in (1/world averages an all-reduced sum).
/// Each update also zeroes the gradients it consumed, in the same pass, so that the next step
/// accumulates into zeroed gradients without a memset of its own.

/// SGD with optional momentum (`buf = μ·buf + g`, no dampening), Nesterov, and L2 weight decay
/// added to the gradient: `g = gradScale·grad + wd·p; p -= lr·(nesterov ? g + μ·buf : buf)`.
/// With `momentum == 0`, `velocity` is not touched and may be empty.
public func sgdUpdate(params: Tensor, grads: Tensor, velocity: Tensor, lr: Float, momentum: Float, nesterov: Bool,
                      weightDecay: Float, gradScale: Float) {
    precondition(params.count == grads.count && (momentum == 0 || velocity.count == params.count),
                 "sgdUpdate: params \(params.count), grads \(grads.count), velocity \(velocity.count)")
    let p = params.pointer, g = grads.pointer, v = velocity.pointer
    let n = params.count
    if momentum == 0 {
        for i in 0..<n {
            p[i] -= lr * (g[i] * gradScale + weightDecay * p[i])
            g[i] = 0
        }
    } else if nesterov {
        for i in 0..<n {
            let d = g[i] * gradScale + weightDecay * p[i]
            g[i] = 0
            let b = momentum * v[i] + d
            v[i] = b
            p[i] -= lr * (d + momentum * b)
        }
    } else {
        for i in 0..<n {
            let b = momentum * v[i] + (g[i] * gradScale + weightDecay * p[i])
            g[i] = 0
            v[i] = b
            p[i] -= lr * b
        }
    }
}

/// AdamW (decoupled weight decay) at 1-based step `t`:
/// `p *= 1 - lr·wd; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
///  p -= lr/(1-β1^t) · m / (√v/√(1-β2^t) + ε)`.
/// The βs are Doubles, as PyTorch's are Python floats: 1 - β and 1 - β^t are formed in
/// Double and rounded once (the Float 0.999 is 0.99900001, whose 1 - β is 1.3e-5 off).
///
/// - Parameter undecayed: element ranges of these buffers (ascending, disjoint) that take no
///   weight decay, as PyTorch's parameter group with `weight_decay=0` (nanoGPT's biases and
///   LayerNorm parameters). Still one pass: the loop runs range by range with the decay of each.
public func adamWUpdate(params: Tensor, grads: Tensor, firstMoment m: Tensor, secondMoment v: Tensor, step t: Int,
                        lr: Float, beta1: Double, beta2: Double, epsilon: Float, weightDecay: Float, gradScale: Float,
                        undecayed: [Range<Int>] = []) {
    precondition(params.count == grads.count && m.count == params.count && v.count == params.count && t >= 1,
                 "adamWUpdate: params \(params.count), grads \(grads.count), m \(m.count), v \(v.count), step \(t)")
    let correction1 = 1 - pow(beta1, Double(t))
    let correction2 = 1 - pow(beta2, Double(t))
    let step = AdamWStep(beta1: Float(beta1), beta2: Float(beta2), oneMinusBeta1: Float(1 - beta1),
                         oneMinusBeta2: Float(1 - beta2), stepSize: Float(Double(lr) / correction1),
                         invSqrtCorrection2: Float(1 / correction2.squareRoot()), epsilon: epsilon, gradScale: gradScale,
                         params: params.pointer, grads: grads.pointer, m: m.pointer, v: v.pointer)
    let decay = 1 - lr * weightDecay
    var next = 0
    for range in undecayed {
        precondition(range.lowerBound >= next && range.upperBound <= params.count,
                     "adamWUpdate: undecayed ranges \(undecayed) not ascending within 0..<\(params.count)")
        step.update(next..<range.lowerBound, decay: decay)
        step.update(range, decay: 1)
        next = range.upperBound
    }
    step.update(next..<params.count, decay: decay)
}

/// One AdamW step's constants and buffers, applied range by range.
private struct AdamWStep {
    let beta1: Float, beta2: Float, oneMinusBeta1: Float, oneMinusBeta2: Float
    let stepSize: Float, invSqrtCorrection2: Float, epsilon: Float, gradScale: Float
    let params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>
    let m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>

    @inline(__always)
    func update(_ range: Range<Int>, decay: Float) {
        let p = params, g = grads, mp = m, vp = v
        for i in range {
            let gi = g[i] * gradScale
            g[i] = 0
            let mi = mp[i] * beta1 + gi * oneMinusBeta1
            let vi = vp[i] * beta2 + gi * gi * oneMinusBeta2
            mp[i] = mi
            vp[i] = vi
            let denom = vi.squareRoot() * invSqrtCorrection2 + epsilon
            p[i] = p[i] * decay - stepSize * (mi / denom)
        }
    }
}

/// The factor by which clipping to a global norm of `maxNorm` scales every gradient, as
/// `torch.nn.utils.clip_grad_norm_` computes it: `min(maxNorm / (totalNorm + 1e-6), 1)`, with
/// `totalNorm` the L2 norm over all gradients (√ of the summed `sumOfSquares`). Pass it (times
/// any other scale) as an update's `gradScale`, so that clipping costs no pass of its own.
public func gradientClipFactor(totalNorm: Double, maxNorm: Double) -> Float {
    Float(min(maxNorm / (totalNorm + 1e-6), 1))
}
