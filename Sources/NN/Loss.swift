import Tensor

/// Softmax cross-entropy over a model's logits.
public enum CrossEntropy {
    /// The summed loss of the first `batch` rows of `model.logits` against `labels`, and, in
    /// `model.logitsGradient`, `gradientScale · (softmax - onehot)`. A mean over the batch
    /// is `1/batch`; a mean over a global batch split across ranks and micro-batches is
    /// `1/globalBatch`.
    public static func lossAndGradient(_ model: Sequential, labels: UnsafeBufferPointer<Int32>, batch: Int,
                                       gradientScale: Float) -> Double {
        softmaxCrossEntropy(logits: Matrix(model.logits, rows: batch, cols: model.classes), labels: labels,
                            gradient: Matrix(model.logitsGradient, rows: batch, cols: model.classes),
                            gradientScale: gradientScale)
    }

    /// The summed loss of the first `batch` rows, without a gradient (for evaluation).
    public static func loss(_ model: Sequential, labels: UnsafeBufferPointer<Int32>, batch: Int) -> Double {
        softmaxCrossEntropy(logits: Matrix(model.logits, rows: batch, cols: model.classes), labels: labels,
                            gradient: nil, gradientScale: 0)
    }
}
