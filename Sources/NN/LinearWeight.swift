import Tensor

/// The weight W [out, in] of a linear map `y = x·Wᵀ` in a `ParameterStore`, with the GEMMs of
/// its forward and backward: the part that `Linear` and the linear maps of `GPT` share, around
/// which each adds its own bias epilogue.
struct LinearWeight {
    /// The slice index of W.
    let index: Int
    let value: Matrix, gradient: Matrix

    init(_ store: ParameterStore, index: Int) {
        let shape = store.slices[index].shape
        precondition(shape.count == 2, "LinearWeight: \(store.slices[index].name) is \(shape), not [out, in]")
        self.index = index
        value = Matrix(store.value(index), rows: shape[0], cols: shape[1])
        gradient = Matrix(store.gradient(index), rows: shape[0], cols: shape[1])
    }

    var outFeatures: Int { value.rows }
    var inFeatures: Int { value.cols }

    /// y = x·Wᵀ: (rows, in) → (rows, out).
    func forward(_ x: Matrix, into y: Matrix) {
        gemm(x, .none, value, .transposed, into: y)
    }

    /// `dW += dyᵀ·x` in the observer's row blocks, each reported as soon as it is final, so that
    /// a bucket's sum overlaps the next block.
    func accumulateGradient(outputGradient dy: Matrix, input x: Matrix, observer: GradientObserver) {
        for rows in observer.rowBlocks(ofParameter: index) {
            // dW[rows, :] += dy[:, rows]ᵀ · x
            gemm(dy.columns(rows), .transposed, x, .none, into: gradient.rows(rows), beta: 1)
            observer.gradientReady(parameter: index, rows: rows)
        }
    }

    /// dx = dy·W: (rows, out)·(out, in).
    func inputGradient(_ dy: Matrix, into dx: Matrix) {
        gemm(dy, .none, value, .none, into: dx)
    }
}

extension GradientObserver {
    /// Reports every row block of parameter `index` as final: for a gradient computed whole.
    func reportWhole(parameter index: Int) {
        for rows in rowBlocks(ofParameter: index) { gradientReady(parameter: index, rows: rows) }
    }
}
